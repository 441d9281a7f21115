import { sql, type ExpressionBuilder } from 'kysely';
import type { Db } from './database.js';
import type { Tables } from './tables.js';

/** Counts for metrics and reports, straight from the store. */

export async function openTicketCounts(db: Db): Promise<Array<{ status: string; priority: string; count: number }>> {
  const rows = await db.selectFrom('tickets').select(['status', 'priority', (eb) => eb.fn.countAll<number>().as('n')]).where('is_open', '=', 1).groupBy(['status', 'priority']).execute();
  return rows.map((r) => ({ status: r.status, priority: r.priority, count: Number(r.n) }));
}

export async function slaEventCounts(db: Db): Promise<Array<{ kind: string; priority: string; count: number }>> {
  const rows = await db
    .selectFrom('sla_events')
    .innerJoin('tickets', 'tickets.id', 'sla_events.ticket_id')
    .select(['sla_events.kind as kind', 'tickets.priority as priority', (eb) => eb.fn.countAll<number>().as('n')])
    .where('sla_events.outcome', '!=', 'silent')
    .groupBy(['sla_events.kind', 'tickets.priority'])
    .execute();
  return rows.map((r) => ({ kind: r.kind, priority: r.priority, count: Number(r.n) }));
}

export async function escalationCounts(db: Db): Promise<Array<{ state: string; count: number }>> {
  const rows = await db.selectFrom('escalations').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  return rows.map((r) => ({ state: r.state, count: Number(r.n) }));
}


export interface SlaOutcomeRow {
  priority: string;
  tier: string;
  /** Tickets whose SLA was decided in the window: resolved in it, or breached in it. */
  decided: number;
  /** Of those, the ones that breached, in the window or before it (resolving late does not undo a breach). */
  breached: number;
}

/**
 * SLA outcomes of the tickets decided since `since`, by priority and tier. A ticket is decided when it
 * is resolved or when one of its clocks breaches; it met its SLA when it was resolved without a breach.
 * Tickets still running inside their targets are not counted either way.
 */
export async function slaOutcomes(db: Db, since: number, options: { assigneeId?: number } = {}): Promise<SlaOutcomeRow[]> {
  const breached = (eb: ExpressionBuilder<Tables, 'tickets'>, from?: number) =>
    eb.exists(
      eb
        .selectFrom('sla_events')
        .select('sla_events.id')
        .whereRef('sla_events.ticket_id', '=', 'tickets.id')
        .where('sla_events.kind', '=', 'breach')
        .$if(from !== undefined, (qb) => qb.where('sla_events.at', '>=', from!)),
    );
  const rows = await db
    .selectFrom('tickets')
    .select((eb) => ['priority', 'tier', eb.fn.countAll<number>().as('decided'), eb.fn.sum<number>(eb.case().when(breached(eb)).then(1).else(0).end()).as('breached')])
    .where('sla_clocks', 'is not', null)
    .where((eb) => eb.or([eb('resolved_at', '>=', since), breached(eb, since)]))
    .$if(options.assigneeId !== undefined, (qb) => qb.where('assignee_id', '=', options.assigneeId!))
    .groupBy(['priority', 'tier'])
    .execute();
  return rows.map((r) => ({ priority: r.priority, tier: r.tier, decided: Number(r.decided), breached: Number(r.breached) }));
}

/**
 * How many tickets were open at each of the given instants (day ends, oldest first), in one pass over
 * the tickets that were open at some point between the first and the last. A reopened ticket counts as
 * open since it was created: the store keeps when it was last resolved, not every time.
 */
export async function openCountsAt(db: Db, instants: readonly number[], options: { assigneeId?: number } = {}): Promise<number[]> {
  if (instants.length === 0) return [];
  const first = Math.min(...instants);
  const last = Math.max(...instants);
  const doneAt = sql<number | null>`coalesce(resolved_at, closed_at)`;
  const rows = await db
    .selectFrom('tickets')
    .select(instants.map((at, i) => sql<number>`sum(case when created_at <= ${at} and (${doneAt} is null or ${doneAt} > ${at}) then 1 else 0 end)`.as(`d${i}`)))
    .where('created_at', '<=', last)
    .where((eb) => eb.or([eb('resolved_at', 'is', null).and('closed_at', 'is', null), eb(doneAt, '>', first)]))
    .$if(options.assigneeId !== undefined, (qb) => qb.where('assignee_id', '=', options.assigneeId!))
    .executeTakeFirst();
  return instants.map((_, i) => Number((rows as Record<string, unknown> | undefined)?.[`d${i}`] ?? 0));
}
