import type { Db } from './database.js';
import type { ChannelRole } from './tables.js';

/** Registered support teams and their members, and channels mapped to a role such as triage. */

export async function registerSupportTeam(
  db: Db,
  team: { teamId: string; name: string | null; registeredBy: number; memberIds: readonly number[] },
  now: number,
): Promise<void> {
  await db
    .insertInto('support_teams')
    .values({ team_id: team.teamId, name: team.name, registered_by: team.registeredBy, registered_at: now })
    .onConflict((oc) => oc.column('team_id').doUpdateSet({ name: team.name, registered_by: team.registeredBy, registered_at: now }))
    .execute();
  await db.deleteFrom('team_members').where('team_id', '=', team.teamId).execute();
  if (team.memberIds.length > 0) {
    await db
      .insertInto('team_members')
      .values([...new Set(team.memberIds)].map((personId) => ({ team_id: team.teamId, person_id: personId })))
      .execute();
  }
}

export async function teamsOfPerson(db: Db, personId: number): Promise<string[]> {
  const rows = await db.selectFrom('team_members').select('team_id').where('person_id', '=', personId).execute();
  return rows.map((r) => r.team_id);
}

export async function isRegisteredAgent(db: Db, personId: number): Promise<boolean> {
  const row = await db.selectFrom('team_members').select('person_id').where('person_id', '=', personId).executeTakeFirst();
  return row !== undefined;
}

export async function mapChannel(db: Db, role: ChannelRole, mapping: { conversationRefId: number; teamId: string | null; setBy: number }, now: number): Promise<void> {
  await db
    .insertInto('channel_roles')
    .values({ role, conversation_ref_id: mapping.conversationRefId, team_id: mapping.teamId, set_by: mapping.setBy, set_at: now })
    .onConflict((oc) => oc.column('role').doUpdateSet({ conversation_ref_id: mapping.conversationRefId, team_id: mapping.teamId, set_by: mapping.setBy, set_at: now }))
    .execute();
}

export async function channelFor(db: Db, role: ChannelRole): Promise<{ conversationRefId: number; teamId: string | null } | undefined> {
  const row = await db.selectFrom('channel_roles').select(['conversation_ref_id', 'team_id']).where('role', '=', role).executeTakeFirst();
  return row && { conversationRefId: row.conversation_ref_id, teamId: row.team_id };
}

/** Whether a team is a registered support team, so its channels are agents' rooms. */
export async function isSupportTeam(db: Db, teamId: string): Promise<boolean> {
  const row = await db.selectFrom('support_teams').select('team_id').where('team_id', '=', teamId).executeTakeFirst();
  return row !== undefined;
}

/** Whether an admin set this conversation up for the desk (triage, sla-breaches, critical, escalations). */
export async function isDeskChannel(db: Db, conversationRefId: number): Promise<boolean> {
  const row = await db.selectFrom('channel_roles').select('role').where('conversation_ref_id', '=', conversationRefId).executeTakeFirst();
  return row !== undefined;
}

/** Every registered support team. */
export async function supportTeamIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('support_teams').select('team_id').execute()).map((r) => r.team_id);
}

/** The name a support team was registered with, if it was. */
export async function supportTeamName(db: Db, teamId: string): Promise<string | null> {
  const row = await db.selectFrom('support_teams').select('name').where('team_id', '=', teamId).executeTakeFirst();
  return row?.name ?? null;
}

/** Every registered support team with its name. */
export async function supportTeamsNamed(db: Db): Promise<Array<{ teamId: string; name: string | null }>> {
  return (await db.selectFrom('support_teams').select(['team_id', 'name']).execute()).map((r) => ({ teamId: r.team_id, name: r.name }));
}
