import { randomUUID } from 'node:crypto';
import { backoffDelay } from '../domain/backoff.js';
import {
  SlidingWindowLimiter,
  TEAMS_CONVERSATION_LIMITS,
  TEAMS_PERSONAL_HOURLY_LIMIT,
  TEAMS_TENANT_LIMITS,
  type WindowRule,
} from '../domain/rate-limit.js';
import { withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import { findCardPost, homeChannelOf } from '../store/card-posts.js';
import { channelFor } from '../store/support-teams.js';
import { findConversationById, markConversationStale, type StoredConversation } from '../store/conversation-references.js';
import type { Database } from '../store/database.js';
import * as outbox from '../store/outbox.js';
import { DeliveryError, type CardRenderer, type Delivery } from './delivery.js';
import { napUntil, PollingLoop } from './polling-loop.js';

export interface OutboxWorkerOptions {
  /** How often an idle worker looks for work nobody woke it for (another replica's rows, retries). */
  pollIntervalMs: number;
  batchSize: number;
  /** Conversations sent to at the same time. */
  concurrency: number;
  leaseMs: number;
  /** Attempts before a row is dead-lettered. */
  maxAttempts: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
  conversationLimits: readonly WindowRule[];
  personalLimits: readonly WindowRule[];
  tenantLimits: readonly WindowRule[];
  /** Added to every rate-limit window to absorb the delay between deciding to send and arriving. */
  limitMarginMs: number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxWorkerOptions = {
  pollIntervalMs: 1_000,
  batchSize: 100,
  concurrency: 16,
  leaseMs: 60_000,
  maxAttempts: 8,
  backoff: { baseMs: 2_000, capMs: 300_000, jitter: 0.2 },
  conversationLimits: TEAMS_CONVERSATION_LIMITS,
  personalLimits: [...TEAMS_CONVERSATION_LIMITS, TEAMS_PERSONAL_HOURLY_LIMIT],
  tenantLimits: TEAMS_TENANT_LIMITS,
  limitMarginMs: 50,
};

export interface OutboxWorkerDeps {
  database: Database;
  delivery: Delivery;
  /** Renders ticket cards queued without an activity; without it such rows are dead-lettered. */
  cards?: CardRenderer;
  logger: Logger;
  /** The wall clock: sends, Teams' rate limits, Retry-After, retries and leases. */
  clock?: () => number;
  /**
   * The desk's clock, on which quiet-hour holds end. A hold is a time of the desk's calendar ("08:00 in
   * the agent's zone"), decided on this clock, so it is measured on it too; in production both are the
   * wall clock, in tests this one may be fake while sends still run in real time. Defaults to `clock`.
   */
  calendarClock?: () => number;
  random?: () => number;
  options?: Partial<OutboxWorkerOptions>;
  /** Told when Teams refuses a conversation (403/404), so caches of "known conversations" can drop it. */
  onUnreachable?: (conversationId: string) => void;
  /** Told what each send answered (metrics). */
  onSendResult?: (result: { ok: true } | { ok: false; status: number | undefined }) => void;
  /** The replica id (ReplicaHeartbeat.id) its leases are held under, so others can tell when it died. */
  owner?: string;
}

/**
 * Sends what the outbox holds, within Teams' rate limits, and records each outcome. A row is leased
 * while it is being sent; a worker that dies leaves a lease that another replica takes over once the
 * dead one's heartbeat is stale (or the lease runs out), and the row is sent again (at-least-once).
 * The window for a duplicate is only between Teams accepting a send and our commit.
 *
 * Longer than most modules: claiming, rendering, the three rate limiters, the send and what each
 * outcome means (retry, defer, fall back to the channel, dead-letter) share the limiters' state and one
 * loop, and read best together.
 */
export class OutboxWorker {
  private readonly options: OutboxWorkerOptions;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly owner: string;
  private readonly conversationLimiter: SlidingWindowLimiter;
  private readonly personalLimiter: SlidingWindowLimiter;
  private readonly tenantLimiter: SlidingWindowLimiter;
  private readonly loop: PollingLoop;

  constructor(private readonly deps: OutboxWorkerDeps) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...deps.options };
    this.owner = deps.owner ?? `outbox-${randomUUID()}`;
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    const margin = this.options.limitMarginMs;
    this.conversationLimiter = new SlidingWindowLimiter(this.options.conversationLimits, margin);
    this.personalLimiter = new SlidingWindowLimiter(this.options.personalLimits, margin);
    this.tenantLimiter = new SlidingWindowLimiter(this.options.tenantLimits, margin);
    this.loop = new PollingLoop({
      round: () => this.drainOnce(),
      idleDelay: () => this.idleDelay(),
      onError: (error) => this.deps.logger.error({ err: error }, 'outbox round failed; retrying at the next poll'),
    });
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Several replicas share one tenant budget: each keeps to its share (at least one send per window),
   * so together they stay within Teams' limit.
   */
  shareTenantBudget(replicas: number): void {
    const share = Math.max(1, replicas);
    this.tenantLimiter.setRules(
      this.options.tenantLimits.map((r) => ({ limit: Math.max(1, Math.floor(r.limit / share)), windowMs: r.windowMs })),
      this.options.limitMarginMs,
    );
  }

  private calendarNow(): number {
    return (this.deps.calendarClock ?? this.clock)();
  }

  /** Something was enqueued: look now rather than at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming, lets sends already under way finish, and returns when the loop has ended. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Sends everything due now, one round; returns how many rows it handled. Used by the loop and by tests. */
  async drainOnce(): Promise<number> {
    const { database } = this.deps;
    const now = this.clock();
    const claimed = await outbox.claimDue(database.db, database.dialect, {
      now,
      holdNow: this.calendarNow(),
      limit: this.options.batchSize,
      leaseMs: this.options.leaseMs,
      owner: this.owner,
    });
    if (claimed.length === 0) return 0;

    const queue = [...claimed];
    const workers = Array.from({ length: Math.min(this.options.concurrency, queue.length) }, async () => {
      for (let message = queue.shift(); message; message = queue.shift()) {
        if (!this.loop.isRunning) {
          // Stopping: hand the rest back instead of sitting on their leases.
          await outbox.releaseLeases(database.db, this.owner, [message.id, ...queue.splice(0).map((m) => m.id)]);
          return;
        }
        // The worker logs under the id of the work that queued the message (a turn, an email, a sweep).
        await withCorrelation(message.correlationId, () => this.handle(message));
      }
    });
    await Promise.all(workers);
    return claimed.length;
  }

  private async idleDelay(): Promise<number> {
    const now = this.clock();
    return napUntil(await outbox.nextDueAt(this.deps.database.db, { now, holdNow: this.calendarNow() }), now, this.options.pollIntervalMs);
  }

  private async handle(message: outbox.ClaimedMessage): Promise<void> {
    const { database, logger } = this.deps;
    const db = database.db;
    const log = logger.child({ outboxId: message.id, key: message.idempotencyKey, operation: message.operation });

    const conversation = await findConversationById(db, message.conversationRefId);
    if (!conversation || conversation.removed || conversation.staleReason) {
      const reason = !conversation
        ? 'conversation reference missing'
        : conversation.removed
          ? 'bot was removed from the conversation'
          : `conversation unreachable: ${conversation.staleReason}`;
      await outbox.markDead(db, message.id, reason);
      log.warn({ reason }, 'outbox message not delivered there: nowhere to deliver it');
      if (conversation) await this.fallBackToChannel(message, conversation, log);
      return;
    }

    const now = this.clock();
    const wait = this.acquire(conversation, now);
    if (wait !== undefined) {
      await outbox.defer(db, message.id, wait);
      return;
    }

    try {
      const rendered = await this.activityFor(message, conversation);
      if (!rendered) {
        await outbox.markDead(db, message.id, 'nothing to send: the ticket no longer exists');
        return;
      }
      let delivered: { activityId: string | undefined };
      try {
        delivered = await this.deps.delivery.deliver({
          operation: message.operation,
          target: { reference: conversation.reference, conversationId: conversation.conversationId },
          targetActivityId: message.targetActivityId,
          activity: rendered.activity,
        });
      } finally {
        this.restamp(conversation, now);
      }
      this.deps.onSendResult?.({ ok: true });
      const { activityId } = delivered;
      const landedAs = activityId ?? message.targetActivityId ?? undefined;
      await outbox.markSent(db, message, landedAs, this.clock());
      log.info({ activityId, attempts: message.attempts + 1 }, 'outbox message delivered');
      await this.catchUpCard(message, rendered.version, landedAs);
    } catch (error) {
      this.deps.onSendResult?.({ ok: false, status: error instanceof DeliveryError ? error.details.status : undefined });
      await this.recordFailure(message, conversation, error, log);
    }
  }

  private async activityFor(
    message: outbox.ClaimedMessage,
    conversation: StoredConversation,
  ): Promise<{ activity: Record<string, unknown>; version: number | undefined } | undefined> {
    if (message.activity) return { activity: message.activity, version: undefined };
    if (message.ticketId === null || !message.cardKind || !this.deps.cards) return undefined;
    return this.deps.cards.render(message.ticketId, message.cardKind, {
      id: conversation.id,
      kind: conversation.kind,
      teamId: conversation.teamId,
      userAadObjectId: conversation.userAadObjectId,
      userTeamsId: conversation.userTeamsId,
    });
  }

  /**
   * A card rendered at version v went out; if the ticket changed meanwhile, the change may not have
   * seen this copy (it was not recorded yet), so queue one more update of it.
   */
  private async catchUpCard(message: outbox.ClaimedMessage, renderedVersion: number | undefined, activityId: string | undefined): Promise<void> {
    if (renderedVersion === undefined || message.ticketId === null || !message.cardKind || !activityId || !this.deps.cards) return;
    const current = await this.deps.cards.currentVersion(message.ticketId);
    if (current === undefined || current <= renderedVersion) return;
    const postId = (await findCardPost(this.deps.database.db, message.conversationRefId, activityId))?.id;
    if (postId === undefined) return;
    await outbox.enqueueCardUpdate(
      this.deps.database.db,
      { postId, conversationRefId: message.conversationRefId, activityId, ticketId: message.ticketId, cardKind: message.cardKind, version: current },
      this.clock(),
    );
    this.wake();
  }

  /** Takes a slot in every limit that applies, or returns when to come back. */
  private acquire(conversation: StoredConversation, now: number): number | undefined {
    const limiter = conversation.kind === 'personal' ? this.personalLimiter : this.conversationLimiter;
    const tenantKey = conversation.tenantId ?? 'unknown-tenant';
    const perConversation = limiter.check(conversation.conversationId, now);
    const perTenant = this.tenantLimiter.check(tenantKey, now);
    if (!perConversation.ok || !perTenant.ok) {
      return Math.max(perConversation.ok ? now : perConversation.retryAt, perTenant.ok ? now : perTenant.retryAt);
    }
    limiter.record(conversation.conversationId, now);
    this.tenantLimiter.record(tenantKey, now);
    return undefined;
  }

  /**
   * A ticket's card that cannot reach a person (they blocked or removed the bot) goes to the channel
   * where the ticket lives (else the triage channel) instead, so it is not lost on the way.
   */
  private async fallBackToChannel(message: outbox.ClaimedMessage, conversation: StoredConversation, log: Logger): Promise<void> {
    if (conversation.kind !== 'personal' || message.ticketId === null || message.operation === 'update') return;
    const db = this.deps.database.db;
    const channel = (await homeChannelOf(db, message.ticketId)) ?? (await channelFor(db, 'triage'))?.conversationRefId;
    if (channel === undefined || channel === conversation.id) return;
    // Keyed as if it had been sent to that channel in the first place, so a card that already goes
    // there (a breach goes to the channel anyway) is not posted twice.
    const base = /:conv:\d+$/.test(message.idempotencyKey) ? message.idempotencyKey.replace(/:conv:\d+$/, '') : `${message.idempotencyKey}:fallback`;
    await outbox.enqueue(
      db,
      [{ idempotencyKey: `${base}:conv:${channel}`, operation: 'send', conversationRefId: channel, ticketId: message.ticketId, cardKind: message.cardKind ?? undefined, activity: message.activity }],
      this.clock(),
    );
    log.info({ fallbackConversationRefId: channel }, 'sent to the ticket’s channel instead');
    this.wake();
  }

  private restamp(conversation: StoredConversation, stampedAt: number): void {
    const at = Math.max(stampedAt, this.clock());
    const limiter = conversation.kind === 'personal' ? this.personalLimiter : this.conversationLimiter;
    limiter.restamp(conversation.conversationId, stampedAt, at);
    this.tenantLimiter.restamp(conversation.tenantId ?? 'unknown-tenant', stampedAt, at);
  }

  private async recordFailure(
    message: outbox.ClaimedMessage,
    conversation: StoredConversation,
    error: unknown,
    log: Logger,
  ): Promise<void> {
    const db = this.deps.database.db;
    const failure =
      error instanceof DeliveryError ? error : new DeliveryError('transient', error instanceof Error ? error.message : String(error));
    const summary = `${failure.kind}${failure.details.status ? ` ${failure.details.status}` : ''}: ${failure.message}`;
    const attempt = message.attempts + 1;

    if (failure.kind === 'forbidden' || failure.kind === 'not-found') {
      await markConversationStale(db, conversation.id, summary, this.clock());
      await outbox.markDead(db, message.id, summary);
      this.deps.onUnreachable?.(conversation.conversationId);
      log.warn({ status: failure.details.status, code: failure.details.code }, 'bot cannot write to this conversation; marked it stale');
      await this.fallBackToChannel(message, conversation, log);
      return;
    }
    if (failure.kind === 'permanent' || attempt >= this.options.maxAttempts) {
      await outbox.markDead(db, message.id, summary);
      log.error({ attempts: attempt, error: summary }, 'outbox message dead-lettered');
      return;
    }
    const delay =
      failure.kind === 'throttled' && failure.details.retryAfterMs !== undefined
        ? failure.details.retryAfterMs
        : backoffDelay(attempt, this.options.backoff, this.random);
    await outbox.scheduleRetry(db, message.id, this.clock() + delay, summary);
    log.warn({ attempts: attempt, retryInMs: delay, error: summary }, 'outbox send failed; will retry');
  }
}
