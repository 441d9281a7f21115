import { sql } from 'kysely';
import { currentCorrelationId } from '../log-context.js';
import { leaseIsFree } from './replicas.js';
import type { Db, Dialect } from './database.js';

/**
 * Desk events on their way to targets outside Teams, with the outbox's guarantees: written in the
 * change's transaction under an idempotency key (`event:<event id>:to:<target>`: an event reaches a
 * target once, however many rules name it), leased while sent, ordered per target and ticket (a Slack
 * update never overtakes the message it updates; a PagerDuty resolve never overtakes its trigger),
 * retried, and dead-lettered where operators see and re-drive it (`npm run outbox`).
 */

export interface EventDeliveryMessage {
  target: string;
  eventId: string;
  eventType: string;
  ticketId: number | null;
  /** true: a rule sent it; false: it follows up what the target posted about the ticket. */
  matched: boolean;
  /** The DeskEvent as JSON. */
  payload: string;
}

export interface ClaimedDelivery {
  id: number;
  target: string;
  eventId: string;
  eventType: string;
  ticketId: number | null;
  matched: boolean;
  payload: string;
  attempts: number;
  firstAttemptAt: number | null;
  createdAt: number;
  correlationId: string | null;
}

export const deliveryKey = (eventId: string, target: string) => `event:${eventId}:to:${target}`;

export async function enqueueDeliveries(db: Db, messages: readonly EventDeliveryMessage[], now: number): Promise<void> {
  if (messages.length === 0) return;
  const correlationId = currentCorrelationId() ?? null;
  await db
    .insertInto('event_deliveries')
    .values(
      messages.map((m) => ({
        idempotency_key: deliveryKey(m.eventId, m.target),
        target: m.target,
        event_id: m.eventId,
        event_type: m.eventType,
        ticket_id: m.ticketId,
        matched: m.matched ? 1 : 0,
        payload: m.payload,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: 0,
        created_at: now,
        correlation_id: correlationId,
      })),
    )
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

/** Rows with no pending row before them in their (target, ticket) lane: the only ones that may go. */
const laneHead = (db: Db) =>
  db
    .selectFrom('event_deliveries as d')
    .where('d.status', '=', 'pending')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('event_deliveries as earlier')
            .select(sql`1`.as('one'))
            .whereRef('earlier.target', '=', 'd.target')
            .whereRef('earlier.ticket_id', '=', 'd.ticket_id')
            .where('earlier.status', '=', 'pending')
            .whereRef('earlier.id', '<', 'd.id'),
        ),
      ),
    );

/**
 * Leases up to `limit` due rows: only the oldest pending row of each (target, ticket) lane, so each
 * target hears a ticket's events in the order they happened.
 */
export async function claimDueDeliveries(db: Db, dialect: Dialect, options: { now: number; limit: number; leaseMs: number; owner: string }): Promise<ClaimedDelivery[]> {
  const { now, limit, leaseMs, owner } = options;
  const due = laneHead(db)
    .select('d.id')
    .where('d.next_attempt_at', '<=', now)
    .where(leaseIsFree({ until: 'd.lease_until', owner: 'd.lease_owner' }, now))
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());
  const rows = await db.updateTable('event_deliveries').set({ lease_until: now + leaseMs, lease_owner: owner }).where('id', 'in', due).returningAll().execute();
  return rows
    .sort((a, b) => a.id - b.id)
    .map((r) => ({
      id: r.id,
      target: r.target,
      eventId: r.event_id,
      eventType: r.event_type,
      ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
      matched: r.matched === 1,
      payload: r.payload,
      attempts: r.attempts,
      firstAttemptAt: r.first_attempt_at === null ? null : Number(r.first_attempt_at),
      createdAt: Number(r.created_at),
      correlationId: r.correlation_id,
    }));
}

/** Sent; and what the target now has of the ticket, when it says (a Slack message, a PagerDuty alert). */
/**
 * Renews the lease on a row about to be sent; false when it is no longer ours (it ran out and another
 * replica took it over), in which case this worker must leave the row alone.
 */
export async function renewLease(db: Db, id: number, owner: string, until: number): Promise<boolean> {
  const result = await db.updateTable('event_deliveries').set({ lease_until: until }).where('id', '=', id).where('lease_owner', '=', owner).where('status', '=', 'pending').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether a later event of the same lane already went out (then this one would put the target out of date). */
export async function laterDelivered(db: Db, row: Pick<ClaimedDelivery, 'id' | 'target' | 'ticketId'>): Promise<boolean> {
  if (row.ticketId === null) return false;
  const later = await db.selectFrom('event_deliveries').select('id').where('target', '=', row.target).where('ticket_id', '=', row.ticketId).where('status', '=', 'sent').where('id', '>', row.id).limit(1).executeTakeFirst();
  return later !== undefined;
}

/** Removes delivered rows older than `before` (they hold event payloads: names, emails, public replies). */
export async function pruneDelivered(db: Db, before: number): Promise<number> {
  const result = await db.deleteFrom('event_deliveries').where('status', '=', 'sent').where('sent_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function markDelivered(db: Db, row: Pick<ClaimedDelivery, 'id' | 'target' | 'ticketId'>, result: { summary: string; externalId?: string }, now: number, owner?: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (result.externalId !== undefined && row.ticketId !== null) {
      await tx
        .insertInto('integration_posts')
        .values({ target: row.target, ticket_id: row.ticketId, external_id: result.externalId, created_at: now })
        .onConflict((oc) => oc.columns(['target', 'ticket_id']).doUpdateSet({ external_id: result.externalId! }))
        .execute();
    }
    await tx
      .updateTable('event_deliveries')
      .set((eb) => ({ status: 'sent', sent_at: now, attempts: eb('attempts', '+', 1), first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(now)), result: result.summary.slice(0, 500), last_error: null, lease_until: null, lease_owner: null }))
      .where('id', '=', row.id)
      .$if(owner !== undefined, (qb) => qb.where('lease_owner', '=', owner!))
      .execute();
  });
}

/** A failed attempt, tried again at `nextAttemptAt`. */
export async function retryDeliveryLater(db: Db, id: number, nextAttemptAt: number, error: string, attemptedAt: number, options: { countAttempt: boolean; owner?: string }): Promise<void> {
  await db
    .updateTable('event_deliveries')
    .set((eb) => ({
      attempts: options.countAttempt ? eb('attempts', '+', 1) : eb.ref('attempts'),
      first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(attemptedAt)),
      next_attempt_at: nextAttemptAt,
      last_error: error.slice(0, 1000),
      lease_until: null,
      lease_owner: null,
    }))
    .where('id', '=', id)
    .$if(options.owner !== undefined, (qb) => qb.where('lease_owner', '=', options.owner!))
    .execute();
}

/** Not attempted (a rate limit of ours was full): back at `nextAttemptAt`, no attempt counted. */
export async function deferDelivery(db: Db, id: number, nextAttemptAt: number): Promise<void> {
  await db.updateTable('event_deliveries').set({ next_attempt_at: nextAttemptAt, lease_until: null, lease_owner: null }).where('id', '=', id).execute();
}

export async function markDeliveryDead(db: Db, id: number, error: string, attemptedAt: number, owner?: string): Promise<void> {
  await db
    .updateTable('event_deliveries')
    .set((eb) => ({ status: 'dead', attempts: eb('attempts', '+', 1), first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(attemptedAt)), last_error: error.slice(0, 1000), lease_until: null, lease_owner: null }))
    .where('id', '=', id)
    .$if(owner !== undefined, (qb) => qb.where('lease_owner', '=', owner!))
    .execute();
}

export async function releaseDeliveryLeases(db: Db, owner: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('event_deliveries').set({ lease_until: null, lease_owner: null }).where('lease_owner', '=', owner).where('status', '=', 'pending').where('id', 'in', [...ids]).execute();
}

/**
 * The earliest time a lane's head falls due (a leased one: when its lease ends). Rows queued behind a
 * head that waits are not due, however old their own time.
 */
export async function nextDeliveryDueAt(db: Db): Promise<number | undefined> {
  const row = await laneHead(db)
    .select(sql<number | null>`min(case when d.lease_until > d.next_attempt_at then d.lease_until else d.next_attempt_at end)`.as('next'))
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

/** What each target has in its queue and how it last fared (for health, `status` and `integrations`). */
export async function deliveryCounts(db: Db): Promise<Map<string, { pending: number; dead: number; sent: number }>> {
  const rows = await db
    .selectFrom('event_deliveries')
    .select((eb) => ['target', 'status', eb.fn.countAll<number>().as('n')])
    .groupBy(['target', 'status'])
    .execute();
  const counts = new Map<string, { pending: number; dead: number; sent: number }>();
  for (const r of rows) {
    const entry = counts.get(r.target) ?? { pending: 0, dead: 0, sent: 0 };
    entry[r.status] = Number(r.n);
    counts.set(r.target, entry);
  }
  return counts;
}

/** What the target posted about the ticket, if anything. */
export async function findIntegrationPost(db: Db, target: string, ticketId: number): Promise<string | undefined> {
  const row = await db.selectFrom('integration_posts').select('external_id').where('target', '=', target).where('ticket_id', '=', ticketId).executeTakeFirst();
  return row?.external_id;
}

/**
 * The targets that posted about a ticket, or have a rule's event of it still on the way: they hear its
 * later events (queued behind the first, so a change made while the first waits is not missed).
 */
export async function targetsFollowing(db: Db, ticketId: number): Promise<string[]> {
  const posted = db.selectFrom('integration_posts').select('target').where('ticket_id', '=', ticketId);
  const queued = db.selectFrom('event_deliveries').select('target').where('ticket_id', '=', ticketId).where('matched', '=', 1).where('status', 'in', ['pending', 'sent']);
  return (await posted.union(queued).execute()).map((r) => r.target);
}
