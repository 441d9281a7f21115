import { sql } from 'kysely';
import { recordCardPost } from './card-posts.js';
import { leaseIsFree } from './replicas.js';
import { currentCorrelationId } from '../log-context.js';
import type { Db, Dialect } from './database.js';
import type { OutboxOperation, OutboxRow } from './tables.js';

/**
 * The outbox: notifications written in the same transaction as the change that causes them, and sent
 * later by the outbox worker. Each row has an idempotency key, so enqueueing the same notification twice
 * (a retried turn, a replayed webhook) stores it once. Enqueueing, claiming, settling and measuring the
 * queue stay together (hence its length): they share the row's state machine.
 */

export interface OutboxMessage {
  /** Unique per notification, e.g. `ticket:1042:card:v7:conv:3`. */
  idempotencyKey: string;
  operation: OutboxOperation;
  conversationRefId: number;
  /** For `reply`: the thread's root activity; for `update`: the activity to replace. */
  targetActivityId?: string;
  ticketId?: number;
  /** When set, a successful `send`/`reply` records a card post of this kind for the ticket. */
  cardKind?: string;
  /**
   * The activity to send (botbuilder `Partial<Activity>` as plain JSON), or null for a ticket card
   * (`ticketId` + `cardKind`), which is rendered when it is sent so it always shows the latest state.
   */
  activity: Record<string, unknown> | null;
  /** Hold the message until this instant (e.g. the end of the recipient's quiet hours). */
  notBefore?: number;
}

export interface ClaimedMessage {
  id: number;
  idempotencyKey: string;
  operation: OutboxOperation;
  conversationRefId: number;
  targetActivityId: string | null;
  ticketId: number | null;
  cardKind: string | null;
  activity: Record<string, unknown> | null;
  attempts: number;
  createdAt: number;
  /** The correlation id of the work that queued it, for the worker's log lines. */
  correlationId: string | null;
}

/** Stores messages; ones whose idempotency key is already stored are skipped. Works inside a transaction. */
export async function enqueue(db: Db, messages: readonly OutboxMessage[], now: number): Promise<void> {
  if (messages.length === 0) return;
  const correlationId = currentCorrelationId() ?? null;
  await db
    .insertInto('outbox')
    .values(
      messages.map((m) => ({
        idempotency_key: m.idempotencyKey,
        operation: m.operation,
        conversation_ref_id: m.conversationRefId,
        target_activity_id: m.targetActivityId ?? null,
        ticket_id: m.ticketId ?? null,
        card_kind: m.cardKind ?? null,
        payload: JSON.stringify(m.activity),
        status: 'pending' as const,
        attempts: 0,
        // Due at once, whatever clock the caller keeps: the worker times sends by the wall clock.
        next_attempt_at: 0,
        hold_until: m.notBefore ?? null,
        created_at: now,
        correlation_id: correlationId,
      })),
    )
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

function toClaimed(row: OutboxRow): ClaimedMessage {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    operation: row.operation,
    conversationRefId: row.conversation_ref_id,
    targetActivityId: row.target_activity_id,
    ticketId: row.ticket_id,
    cardKind: row.card_kind,
    activity: JSON.parse(row.payload) as Record<string, unknown> | null,
    attempts: row.attempts,
    createdAt: row.created_at,
    correlationId: row.correlation_id,
  };
}

/**
 * Leases up to `limit` due rows to `owner` until `now + leaseMs`. Only the oldest pending row of each
 * conversation is eligible, so a conversation's messages go out in the order they were written (a reply
 * never overtakes the card it answers). A lease that ran out, or whose owner (a replica id) stopped
 * beating, is taken over: a replica that dies hands its rows on within seconds of its last heartbeat.
 */
export async function claimDue(
  db: Db,
  dialect: Dialect,
  options: { now: number; limit: number; leaseMs: number; owner: string; holdNow?: number },
): Promise<ClaimedMessage[]> {
  const { now, limit, leaseMs, owner } = options;
  const holdNow = options.holdNow ?? now;
  const due = db
    .selectFrom('outbox as o')
    .select('o.id')
    .where('o.status', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('o.hold_until', 'is', null), eb('o.hold_until', '<=', holdNow)]))
    .where(leaseIsFree({ until: 'o.lease_until', owner: 'o.lease_owner' }, now))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as earlier')
            .select(sql`1`.as('one'))
            .whereRef('earlier.conversation_ref_id', '=', 'o.conversation_ref_id')
            .where('earlier.status', '=', 'pending')
            .whereRef('earlier.id', '<', 'o.id')
            // A message held for later (quiet hours) does not hold up the ones behind it; one being
            // retried or waiting for a rate limit does, so a reply never overtakes the card it answers.
            .where((eb) => eb.or([eb('earlier.hold_until', 'is', null), eb('earlier.hold_until', '<=', holdNow)])),
        ),
      ),
    )
    .orderBy('o.next_attempt_at')
    .orderBy('o.id')
    .limit(limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked());

  const rows = await db
    .updateTable('outbox')
    .set({ lease_until: now + leaseMs, lease_owner: owner })
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id).map(toClaimed);
}

/**
 * Marks a row sent and, for a ticket card, records where it now lives, in one transaction, so a card
 * is never sent without being remembered for later in-place updates.
 */
export async function markSent(
  db: Db,
  message: Pick<ClaimedMessage, 'id' | 'ticketId' | 'cardKind' | 'conversationRefId' | 'operation' | 'targetActivityId'>,
  activityId: string | undefined,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // Card records first, then the outbox row: the order every other writer of both uses (record a
    // card, then queue its update), so two of them never wait on each other (a Postgres deadlock).
    if (message.ticketId !== null && message.cardKind && activityId && message.operation !== 'update') {
      await recordCardPost(tx, { ticketId: message.ticketId, conversationRefId: message.conversationRefId, activityId, kind: message.cardKind }, now);
    }
    if (message.operation === 'update' && message.targetActivityId) {
      await tx
        .updateTable('card_posts')
        .set({ updated_at: now })
        .where('conversation_ref_id', '=', message.conversationRefId)
        .where('activity_id', '=', message.targetActivityId)
        .execute();
    }
    await tx
      .updateTable('outbox')
      .set({ status: 'sent', sent_at: now, sent_activity_id: activityId ?? null, lease_until: null, lease_owner: null, last_error: null })
      .where('id', '=', message.id)
      .execute();
  });
}

/**
 * Queues an in-place update of a posted ticket card, unless one is already waiting untouched: that one
 * renders the ticket when it is sent, so it will show this change too. Bursts of changes cost one update.
 * Returns whether a row was queued.
 */
export async function enqueueCardUpdate(
  db: Db,
  update: { postId: number; conversationRefId: number; activityId: string; ticketId: number; cardKind: string; version: number },
  now: number,
): Promise<boolean> {
  const waiting = await db
    .selectFrom('outbox')
    .select('id')
    .where('conversation_ref_id', '=', update.conversationRefId)
    .where('target_activity_id', '=', update.activityId)
    .where('operation', '=', 'update')
    .where('status', '=', 'pending')
    .where('lease_until', 'is', null)
    .executeTakeFirst();
  if (waiting) return false;
  await enqueue(
    db,
    [
      {
        idempotencyKey: `card:${update.postId}:v${update.version}`,
        operation: 'update',
        conversationRefId: update.conversationRefId,
        targetActivityId: update.activityId,
        ticketId: update.ticketId,
        cardKind: update.cardKind,
        activity: null,
      },
    ],
    now,
  );
  return true;
}

/**
 * Drops messages of a kind still waiting for a conversation about a ticket (e.g. an SLA warning held
 * for quiet hours), when a newer one replaces them: people get the latest, not a pile.
 */
export async function supersedePending(db: Db, match: { conversationRefId: number; ticketId: number; cardKindPrefix: string }): Promise<number> {
  const result = await db
    .updateTable('outbox')
    .set({ status: 'dead', last_error: 'superseded by a newer message' })
    .where('status', '=', 'pending')
    .where('attempts', '=', 0)
    .where('lease_until', 'is', null)
    .where('conversation_ref_id', '=', match.conversationRefId)
    .where('ticket_id', '=', match.ticketId)
    .where('card_kind', 'like', `${match.cardKindPrefix}%`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A failed attempt that will be tried again at `nextAttemptAt`. */
export async function scheduleRetry(db: Db, id: number, nextAttemptAt: number, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: nextAttemptAt, lease_until: null, lease_owner: null, last_error: error }))
    .where('id', '=', id)
    .execute();
}

/** Not attempted (a rate limit was full): come back at `nextAttemptAt` without counting an attempt. */
export async function defer(db: Db, id: number, nextAttemptAt: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ next_attempt_at: nextAttemptAt, lease_until: null, lease_owner: null })
    .where('id', '=', id)
    .execute();
}

/** Gives up on a row for good; it stays visible to operators with the reason. */
export async function markDead(db: Db, id: number, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'dead', attempts: eb('attempts', '+', 1), lease_until: null, lease_owner: null, last_error: error }))
    .where('id', '=', id)
    .execute();
}

/** Hands back leases an owner holds but has not started on, so a stopping worker frees them at once. */
export async function releaseLeases(db: Db, owner: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('outbox')
    .set({ lease_until: null, lease_owner: null })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'pending')
    .where('id', 'in', [...ids])
    .execute();
}

/**
 * The earliest wall-clock time anything pending becomes due, so an idle worker can sleep exactly that
 * long. Holds are measured on the desk's clock (`holdNow`, see `OutboxWorkerDeps.calendarClock`), so a
 * hold's end is moved onto the wall clock by the distance between the two.
 */
export async function nextDueAt(db: Db, clocks: { now: number; holdNow?: number }): Promise<number | undefined> {
  const holdNow = clocks.holdNow ?? clocks.now;
  const row = await db
    .selectFrom('outbox')
    .select([
      // A row another replica holds is due when its lease runs out, not before (an idle worker would spin).
      sql<number | null>`min(case when hold_until > ${holdNow} then null when lease_until > next_attempt_at then lease_until else next_attempt_at end)`.as('next'),
      sql<number | null>`min(case when hold_until > ${holdNow} then hold_until end)`.as('held'),
    ])
    .where('status', '=', 'pending')
    .executeTakeFirst();
  const next = row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  const held = row?.held === null || row?.held === undefined ? undefined : Number(row.held) - holdNow + clocks.now;
  if (next === undefined) return held;
  return held === undefined ? next : Math.min(next, held);
}

export async function outboxDepth(db: Db): Promise<{ pending: number; dead: number; oldestPendingAt: number | undefined }> {
  const rows = await db
    .selectFrom('outbox')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count'), eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', ['pending', 'dead'])
    .groupBy('status')
    .execute();
  const pending = rows.find((r) => r.status === 'pending');
  const dead = rows.find((r) => r.status === 'dead');
  return {
    pending: Number(pending?.count ?? 0),
    dead: Number(dead?.count ?? 0),
    oldestPendingAt: pending?.oldest === null || pending?.oldest === undefined ? undefined : Number(pending.oldest),
  };
}

export async function findOutboxRow(db: Db, idempotencyKey: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}
