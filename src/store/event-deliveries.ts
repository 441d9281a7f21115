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

/**
 * Leases up to `limit` due rows: only the oldest pending row of each (target, ticket) lane, so each
 * target hears a ticket's events in the order they happened.
 */
export async function claimDueDeliveries(db: Db, dialect: Dialect, options: { now: number; limit: number; leaseMs: number; owner: string }): Promise<ClaimedDelivery[]> {
  const { now, limit, leaseMs, owner } = options;
  const due = db
    .selectFrom('event_deliveries as d')
    .select('d.id')
    .where('d.status', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .where(leaseIsFree({ until: 'd.lease_until', owner: 'd.lease_owner' }, now))
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
    )
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
export async function markDelivered(db: Db, row: Pick<ClaimedDelivery, 'id' | 'target' | 'ticketId'>, result: { summary: string; externalId?: string }, now: number): Promise<void> {
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
      .execute();
  });
}

/** A failed attempt, tried again at `nextAttemptAt`. */
export async function retryDeliveryLater(db: Db, id: number, nextAttemptAt: number, error: string, attemptedAt: number, options: { countAttempt: boolean }): Promise<void> {
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
    .execute();
}

/** Not attempted (a rate limit of ours was full): back at `nextAttemptAt`, no attempt counted. */
export async function deferDelivery(db: Db, id: number, nextAttemptAt: number): Promise<void> {
  await db.updateTable('event_deliveries').set({ next_attempt_at: nextAttemptAt, lease_until: null, lease_owner: null }).where('id', '=', id).execute();
}

export async function markDeliveryDead(db: Db, id: number, error: string, attemptedAt: number): Promise<void> {
  await db
    .updateTable('event_deliveries')
    .set((eb) => ({ status: 'dead', attempts: eb('attempts', '+', 1), first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(attemptedAt)), last_error: error.slice(0, 1000), lease_until: null, lease_owner: null }))
    .where('id', '=', id)
    .execute();
}

export async function releaseDeliveryLeases(db: Db, owner: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('event_deliveries').set({ lease_until: null, lease_owner: null }).where('lease_owner', '=', owner).where('status', '=', 'pending').where('id', 'in', [...ids]).execute();
}

/** The earliest time a pending row falls due (a leased one: when its lease ends). */
export async function nextDeliveryDueAt(db: Db): Promise<number | undefined> {
  const row = await db
    .selectFrom('event_deliveries')
    .select(sql<number | null>`min(case when lease_until > next_attempt_at then lease_until else next_attempt_at end)`.as('next'))
    .where('status', '=', 'pending')
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
 * The targets that posted about a ticket, or that a rule sent one of its events to that is still on
 * its way: they hear its later events. Without the second kind, a ticket taken or resolved while its
 * first event is still being retried (PagerDuty throttling the trigger, Slack not answering the post)
 * would never acknowledge or resolve the alert, or update the message, that event goes on to create.
 * The follow-up stays behind that event in the ticket's lane, and the worker looks up what was posted
 * only when it sends it. `followers`: the targets that follow tickets (the lane index starts with them).
 */
export async function targetsFollowing(db: Db, ticketId: number, followers: readonly string[]): Promise<string[]> {
  if (followers.length === 0) return [];
  const posted = await db.selectFrom('integration_posts').select('target').where('ticket_id', '=', ticketId).execute();
  const coming = await db
    .selectFrom('event_deliveries')
    .select('target')
    .where('target', 'in', followers)
    .where('ticket_id', '=', ticketId)
    .where('status', '=', 'pending')
    .where('matched', '=', 1)
    .execute();
  return [...new Set([...posted, ...coming].map((r) => r.target))];
}
