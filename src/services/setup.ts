import { refusal } from '../domain/roles.js';
import type { Db } from '../store/database.js';
import { upsertPerson, type PersonSeen } from '../store/people.js';
import type { ChannelRole } from '../store/tables.js';
import { mapChannel, registerSupportTeam } from '../store/support-teams.js';
import { addAudit } from '../store/timeline.js';
import type { Actor } from './actors.js';
import type { Result } from './result.js';

const CHANNEL_NOTICES: Record<ChannelRole, string> = {
  triage: 'This channel is now the triage channel: tickets opened in personal chats are posted here.',
  'sla-breaches': 'SLA breaches are now posted to this channel.',
  critical: 'New P1 tickets are now posted to this channel too.',
  escalations: 'Escalations that nobody accepted are now posted to this channel.',
};

/** What admins set up from chat: which channel gets new tickets, and which team's members are agents. */
export class SetupService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  async mapChannel(actor: Actor, role: ChannelRole, channel: { conversationRefId: number; teamId: string | null }): Promise<Result<null>> {
    const refused = refusal(actor.role, 'setup');
    if (refused) return { ok: false, reason: refused };
    const now = this.clock();
    await this.db.transaction().execute(async (tx) => {
      await mapChannel(tx, role, { ...channel, setBy: actor.person.id }, now);
      await addAudit(tx, { at: now, actorId: actor.person.id, action: `setup.${role}`, ticketId: null, surface: 'chat', details: channel });
    });
    return { ok: true, value: null, notice: CHANNEL_NOTICES[role] };
  }

  /** Every member of the team becomes an agent (admins stay admins). */
  async registerSupportTeam(actor: Actor, team: { teamId: string; name: string | null; members: readonly PersonSeen[] }): Promise<Result<{ agents: number }>> {
    const refused = refusal(actor.role, 'setup');
    if (refused) return { ok: false, reason: refused };
    if (team.members.length === 0) return { ok: false, reason: 'Teams returned no members for this team; try again in a moment' };
    const now = this.clock();
    await this.db.transaction().execute(async (tx) => {
      const ids: number[] = [];
      for (const member of team.members) {
        const existing = await upsertPerson(tx, member, undefined, now);
        const person = existing.role === 'admin' ? existing : await upsertPerson(tx, member, 'agent', now);
        ids.push(person.id);
      }
      await registerSupportTeam(tx, { teamId: team.teamId, name: team.name, registeredBy: actor.person.id, memberIds: ids }, now);
      await addAudit(tx, { at: now, actorId: actor.person.id, action: 'setup.support-team', ticketId: null, surface: 'chat', details: { teamId: team.teamId, members: ids.length } });
    });
    return {
      ok: true,
      value: { agents: team.members.length },
      notice: `${team.name ?? 'This team'} is now a support team: its ${team.members.length} member${team.members.length === 1 ? ' is an agent' : 's are agents'}.`,
    };
  }
}
