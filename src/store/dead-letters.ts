import type { Db } from './database.js';

/**
 * Messages that gave up (Teams cards and messages, email, ticket events to integrations): what
 * operators see and re-drive. A
 * re-driven message starts over with a fresh attempt count; its idempotency key is unchanged, so one
 * that did get through before is not sent twice.
 */

export type OutboxName = 'teams' | 'mail' | 'events';

export interface DeadLetter {
  outbox: OutboxName;
  id: number;
  key: string;
  ticketId: number | null;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  /** For events: the integration it was for. */
  target?: string;
}

export async function listDeadLetters(db: Db, limit: number): Promise<DeadLetter[]> {
  const teams = await db.selectFrom('outbox').select(['id', 'idempotency_key', 'ticket_id', 'attempts', 'last_error', 'created_at']).where('status', '=', 'dead').orderBy('id').limit(limit).execute();
  const mail = await db.selectFrom('mail_outbox').select(['id', 'idempotency_key', 'ticket_id', 'attempts', 'last_error', 'created_at']).where('status', '=', 'dead').orderBy('id').limit(limit).execute();
  const shape = (outbox: OutboxName) => (r: (typeof teams)[number]): DeadLetter => ({ outbox, id: r.id, key: r.idempotency_key, ticketId: r.ticket_id, attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at });
  const events = await db.selectFrom('event_deliveries').select(['id', 'idempotency_key', 'ticket_id', 'attempts', 'last_error', 'created_at', 'target']).where('status', '=', 'dead').orderBy('id').limit(limit).execute();
  return [...teams.map(shape('teams')), ...mail.map(shape('mail')), ...events.map((r) => ({ ...shape('events')(r), target: r.target }))];
}

export async function countDeadLetters(db: Db): Promise<Record<OutboxName, number>> {
  const count = async (table: 'outbox' | 'mail_outbox' | 'event_deliveries') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'dead').executeTakeFirstOrThrow()).n);
  return { teams: await count('outbox'), mail: await count('mail_outbox'), events: await count('event_deliveries') };
}

/** Puts dead messages back in their queue (all of them, or the ones named); returns how many. */
export async function redrive(db: Db, which: { all: true } | { ids: Array<{ outbox: OutboxName; id: number }> }, now: number): Promise<number> {
  let moved = 0;
  for (const [outbox, table] of [['teams', 'outbox'], ['mail', 'mail_outbox'], ['events', 'event_deliveries']] as const) {
    const ids = 'all' in which ? undefined : which.ids.filter((x) => x.outbox === outbox).map((x) => x.id);
    if (ids && ids.length === 0) continue;
    const result = await db
      .updateTable(table)
      // An event's retry period starts again too: it is measured from the first attempt.
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, lease_owner: null, ...(table === 'event_deliveries' ? { first_attempt_at: null } : {}) })
      .where('status', '=', 'dead')
      .$if(ids !== undefined, (qb) => qb.where('id', 'in', ids!))
      .executeTakeFirst();
    moved += Number(result.numUpdatedRows);
  }
  return moved;
}
