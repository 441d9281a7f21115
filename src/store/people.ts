import { sql } from 'kysely';
import { inTransaction, type Db } from './database.js';
import type { PersonRow } from './tables.js';

export type StoredRole = PersonRow['role'];

export interface Person {
  id: number;
  teamsId: string | null;
  aadObjectId: string | null;
  tenantId: string | null;
  name: string;
  email: string | null;
  role: StoredRole;
  timeZone: string | null;
  quiet: { from: number; until: number } | null;
}

const toPerson = (row: PersonRow): Person => ({
  id: row.id,
  teamsId: row.teams_id,
  aadObjectId: row.aad_object_id,
  tenantId: row.tenant_id,
  name: row.name,
  email: row.email,
  role: row.role,
  timeZone: row.time_zone,
  quiet: row.quiet_from === null || row.quiet_until === null ? null : { from: row.quiet_from, until: row.quiet_until },
});

export interface PersonSeen {
  teamsId: string;
  aadObjectId: string | null;
  tenantId: string | null;
  name: string;
  email?: string | null;
  /** IANA zone, from the Teams client (clientInfo). */
  timeZone?: string | null;
}

/**
 * Finds a person by Teams id or Entra object id and refreshes what Teams tells us about them, or
 * stores them as new with `role`. An existing stored role is kept unless `role` says otherwise.
 */
export async function upsertPerson(db: Db, seen: PersonSeen, role: StoredRole | undefined, now: number): Promise<Person> {
  return inTransaction(db, async (tx) => {
    const existing = await tx
      .selectFrom('people')
      .selectAll()
      .where((eb) => eb.or([eb('teams_id', '=', seen.teamsId), ...(seen.aadObjectId ? [eb('aad_object_id', '=', seen.aadObjectId)] : [])]))
      .orderBy('id')
      .executeTakeFirst();
    if (!existing) {
      const row = await tx
        .insertInto('people')
        .values({
          teams_id: seen.teamsId,
          aad_object_id: seen.aadObjectId,
          tenant_id: seen.tenantId,
          name: seen.name || 'Unknown',
          email: seen.email ?? null,
          time_zone: seen.timeZone ?? null,
          role: role ?? 'requester',
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPerson(row);
    }
    const next = {
      teams_id: seen.teamsId,
      aad_object_id: seen.aadObjectId ?? existing.aad_object_id,
      tenant_id: seen.tenantId ?? existing.tenant_id,
      name: seen.name || existing.name,
      email: seen.email ?? existing.email,
      time_zone: seen.timeZone ?? existing.time_zone,
      role: role ?? existing.role,
    };
    const changed = (Object.keys(next) as Array<keyof typeof next>).some((k) => next[k] !== existing[k]);
    if (!changed) return toPerson(existing);
    const row = await tx.updateTable('people').set({ ...next, updated_at: now }).where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow();
    return toPerson(row);
  });
}

export async function findPerson(db: Db, id: number): Promise<Person | undefined> {
  const row = await db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toPerson(row);
}

export async function findPersonByTeamsId(db: Db, teamsId: string): Promise<Person | undefined> {
  const row = await db.selectFrom('people').selectAll().where('teams_id', '=', teamsId).executeTakeFirst();
  return row && toPerson(row);
}

export async function findPeople(db: Db, ids: readonly number[]): Promise<Map<number, Person>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('people').selectAll().where('id', 'in', unique).execute();
  return new Map(rows.map((row) => [row.id, toPerson(row)]));
}

/** Agents and admins, by name: who a ticket can be assigned to. */
export async function listAgents(db: Db, limit: number): Promise<Person[]> {
  const rows = await db.selectFrom('people').selectAll().where('role', 'in', ['agent', 'admin']).orderBy('name').limit(limit).execute();
  return rows.map(toPerson);
}

/**
 * Agents whose name, a word of their name, or email starts with `text` (case-insensitive), by name, at
 * most `limit`: for "assign 42 to megan" and the Assign picker's typeahead. Filtered in SQL, so a desk
 * of any size is searched whole.
 */
export async function findAgentsByName(db: Db, text: string, limit = 50): Promise<Person[]> {
  const needle = text.trim().toLowerCase();
  // LIKE's own wildcards in what was typed match themselves.
  const prefix = `${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db
    .selectFrom('people')
    .selectAll()
    .where('role', 'in', ['agent', 'admin'])
    .where((eb) =>
      eb.or([
        eb(sql`lower(name)`, 'like', sql`${prefix} escape '\\'`),
        eb(sql`lower(name)`, 'like', sql`${`% ${prefix}`} escape '\\'`),
        eb(sql`lower(email)`, 'like', sql`${prefix} escape '\\'`),
      ]),
    )
    .orderBy('name')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toPerson);
}

/** The person behind a personal chat, by whichever ids the chat's reference carries. */
export async function findPersonByIdentity(db: Db, ids: { aadObjectId: string | null; teamsId: string | null }): Promise<Person | undefined> {
  if (!ids.aadObjectId && !ids.teamsId) return undefined;
  const row = await db
    .selectFrom('people')
    .selectAll()
    .where((eb) =>
      eb.or([...(ids.aadObjectId ? [eb('aad_object_id', '=', ids.aadObjectId)] : []), ...(ids.teamsId ? [eb('teams_id', '=', ids.teamsId)] : [])]),
    )
    .orderBy('id')
    .executeTakeFirst();
  return row && toPerson(row);
}

export async function setQuietHours(db: Db, personId: number, quiet: { from: number; until: number } | null, now: number): Promise<void> {
  await db
    .updateTable('people')
    .set({ quiet_from: quiet?.from ?? null, quiet_until: quiet?.until ?? null, updated_at: now })
    .where('id', '=', personId)
    .execute();
}

/** Whoever has this address, Teams user or email contact (the oldest if several). */
export async function findPersonByEmail(db: Db, email: string): Promise<Person | undefined> {
  const row = await db
    .selectFrom('people')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .orderBy('id')
    .executeTakeFirst();
  return row && toPerson(row);
}

/** The person with this address, stored as a requester (an email contact) when new. */
export async function contactByEmail(db: Db, contact: { email: string; name: string }, now: number): Promise<Person> {
  const existing = await findPersonByEmail(db, contact.email);
  if (existing) return existing;
  const row = await db
    .insertInto('people')
    .values({
      teams_id: null,
      aad_object_id: null,
      tenant_id: null,
      name: contact.name.trim().slice(0, 200) || contact.email.split('@')[0]!,
      email: contact.email.trim().toLowerCase(),
      role: 'requester',
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPerson(row);
}

/** How many tickets the person with this address has opened (CRM card: "tickets here"). */
export async function countTicketsOf(db: Db, email: string): Promise<number> {
  const row = await db
    .selectFrom('tickets')
    .innerJoin('people', 'people.id', 'tickets.requester_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<string>`lower(people.email)`, '=', email.toLowerCase())
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
