import type { Db, Dialect } from './database.js';
import type { EscalationTable } from './tables.js';
import type { Selectable } from 'kysely';

export type EscalationStep = { level: number; outcome: 'declined'; by: number; reason: string | null; at: number } | { level: number; outcome: 'timed-out'; at: number };

export interface Escalation {
  id: number;
  ticketId: number;
  state: 'open' | 'accepted' | 'exhausted';
  level: number;
  levels: number;
  trigger: 'breach' | 'manual';
  reason: string | null;
  startedBy: number | null;
  startedAt: number;
  timeoutAt: number | null;
  acceptedBy: number | null;
  acceptedAt: number | null;
  history: EscalationStep[];
}

const toEscalation = (row: Selectable<EscalationTable>): Escalation => ({
  id: row.id,
  ticketId: row.ticket_id,
  state: row.state,
  level: row.level,
  levels: row.levels,
  trigger: row.trigger,
  reason: row.reason,
  startedBy: row.started_by,
  startedAt: row.started_at,
  timeoutAt: row.timeout_at,
  acceptedBy: row.accepted_by,
  acceptedAt: row.accepted_at,
  history: JSON.parse(row.history) as EscalationStep[],
});

export async function findEscalation(db: Db, id: number, options: { lock?: Dialect } = {}): Promise<Escalation | undefined> {
  const row = await db
    .selectFrom('escalations')
    .selectAll()
    .where('id', '=', id)
    .$if(options.lock === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row && toEscalation(row);
}

/** The escalation of a ticket still waiting for someone, if any. */
export async function openEscalationOf(db: Db, ticketId: number): Promise<Escalation | undefined> {
  const row = await db.selectFrom('escalations').selectAll().where('ticket_id', '=', ticketId).where('state', '=', 'open').executeTakeFirst();
  return row && toEscalation(row);
}

export async function insertEscalation(
  db: Db,
  escalation: { ticketId: number; levels: number; trigger: 'breach' | 'manual'; reason: string | null; startedBy: number | null; timeoutAt: number },
  now: number,
): Promise<Escalation> {
  const row = await db
    .insertInto('escalations')
    .values({
      ticket_id: escalation.ticketId,
      state: 'open',
      level: 0,
      levels: escalation.levels,
      trigger: escalation.trigger,
      reason: escalation.reason,
      started_by: escalation.startedBy,
      started_at: now,
      timeout_at: escalation.timeoutAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEscalation(row);
}

export async function saveEscalation(db: Db, escalation: Escalation): Promise<void> {
  await db
    .updateTable('escalations')
    .set({
      state: escalation.state,
      level: escalation.level,
      timeout_at: escalation.timeoutAt,
      accepted_by: escalation.acceptedBy,
      accepted_at: escalation.acceptedAt,
      history: JSON.stringify(escalation.history),
    })
    .where('id', '=', escalation.id)
    .execute();
}

/** Open escalations whose current level's time is up. */
export async function timedOutEscalations(db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('escalations')
    .select('id')
    .where('state', '=', 'open')
    .where('timeout_at', '<=', now)
    .orderBy('timeout_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** When the earliest open escalation's current level times out. */
export async function nextEscalationTimeoutAt(db: Db): Promise<number | undefined> {
  const row = await db.selectFrom('escalations').select((eb) => eb.fn.min('timeout_at').as('next')).where('state', '=', 'open').executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}
