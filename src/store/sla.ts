import type { Clock } from '../domain/sla.js';
import type { SlaEvent } from '../domain/sla-sweep.js';
import { eventKey } from '../domain/sla-sweep.js';
import type { Db, Dialect } from './database.js';
import { ownerIsDead } from './replicas.js';

/** The SLA sweep's bookkeeping: which tickets are due a look, what already fired, and snoozes. */

/**
 * Leases up to `limit` tickets whose next SLA check has come to `owner` (a replica id), by moving that
 * check `leaseMs` ahead and naming the owner: a sweeper that dies leaves tickets that come due again when
 * the lease runs out, or as soon as its replica is seen to have stopped beating (up to `limit` more of
 * those, found by their own index). Heartbeats are wall-clock times: `heartbeatNow` is the wall clock
 * when `now` is the desk's clock (which tests may move). Two sweepers never take the same ticket (on Postgres, SKIP LOCKED;
 * on SQLite there is one writer), and a live replica's claims are never taken.
 */
export async function claimSlaChecks(db: Db, dialect: Dialect, options: { now: number; limit: number; leaseMs: number; owner?: string; heartbeatNow?: number }): Promise<number[]> {
  const due = db
    .selectFrom('tickets')
    .select('id')
    .where('next_sla_check_at', '<=', options.now)
    .orderBy('next_sla_check_at')
    .limit(options.limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());
  const orphaned = db
    .selectFrom('tickets')
    .select('id')
    .where('sla_check_owner', 'is not', null)
    .where(ownerIsDead('sla_check_owner', options.heartbeatNow ?? options.now))
    .limit(options.limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());
  const rows = await db
    .updateTable('tickets')
    .set({ next_sla_check_at: options.now + options.leaseMs, sla_check_owner: options.owner ?? null })
    .where((eb) => eb.or([eb('id', 'in', due), eb('id', 'in', orphaned)]))
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export async function firedEvents(db: Db, ticketId: number): Promise<Set<string>> {
  const rows = await db.selectFrom('sla_events').select(['clock', 'kind', 'threshold', 'cycle']).where('ticket_id', '=', ticketId).execute();
  return new Set(rows.map(eventKey));
}

/** Records events; returns the ones that were not recorded before (another sweeper may have been first). */
export async function recordEvents(db: Db, ticketId: number, events: readonly SlaEvent[], now: number): Promise<SlaEvent[]> {
  const recorded: SlaEvent[] = [];
  for (const event of events) {
    const row = await db
      .insertInto('sla_events')
      .values({ ticket_id: ticketId, clock: event.clock, kind: event.kind, threshold: event.threshold, cycle: event.cycle, at: now, outcome: event.outcome })
      .onConflict((oc) => oc.columns(['ticket_id', 'clock', 'kind', 'threshold', 'cycle']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) recorded.push(event);
  }
  return recorded;
}

export async function snoozesOf(db: Db, ticketId: number): Promise<Partial<Record<Clock, { until: number; byPersonId: number | null }>>> {
  const rows = await db.selectFrom('sla_snoozes').selectAll().where('ticket_id', '=', ticketId).execute();
  return Object.fromEntries(rows.map((r) => [r.clock, { until: r.until, byPersonId: r.by_person_id }]));
}

export async function saveSnooze(db: Db, snooze: { ticketId: number; clock: Clock; until: number; byPersonId: number }, now: number): Promise<void> {
  await db
    .insertInto('sla_snoozes')
    .values({ ticket_id: snooze.ticketId, clock: snooze.clock, until: snooze.until, by_person_id: snooze.byPersonId, at: now })
    .onConflict((oc) => oc.columns(['ticket_id', 'clock']).doUpdateSet({ until: snooze.until, by_person_id: snooze.byPersonId, at: now }))
    .execute();
}

/** Schedules the ticket's next check; this also ends a sweep's claim on it. */
export async function setNextSlaCheck(db: Db, ticketId: number, at: number | null): Promise<void> {
  await db.updateTable('tickets').set({ next_sla_check_at: at, sla_check_owner: null }).where('id', '=', ticketId).execute();
}

/** When the earliest SLA check of any ticket is due (claimed ones included: their lease may run out). */
export async function nextSlaCheckAt(db: Db): Promise<number | undefined> {
  const row = await db.selectFrom('tickets').select((eb) => eb.fn.min('next_sla_check_at').as('next')).executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}
