import type { Db } from './database.js';

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

