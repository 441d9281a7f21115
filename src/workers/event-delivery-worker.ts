import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../domain/backoff.js';
import type { DeskEvent } from '../domain/desk-events.js';
import { SlidingWindowLimiter } from '../domain/rate-limit.js';
import { TargetError, type NotifyTarget } from '../integrations/notify/target.js';
import { withCorrelation } from '../log-context.js';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import * as deliveries from '../store/event-deliveries.js';
import { napUntil, PollingLoop } from './polling-loop.js';

export interface EventDeliveryOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** Deliveries in flight at once (across targets). */
  concurrency: number;
  leaseMs: number;
  /** Per attempt: a target that has not answered by then is aborted and the attempt counts as failed. */
  attemptTimeoutMs: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
  /** Added to every rate-limit window (the request arrives a little after we decide to send it). */
  limitMarginMs: number;
  /** Delivered rows are deleted after this long (they hold the event: names, emails, public replies); dead ones stay for operators. */
  keepDeliveredMs: number;
}

export const DEFAULT_EVENT_DELIVERY_OPTIONS: EventDeliveryOptions = {
  pollIntervalMs: 1_000,
  // A round leases no more than it sends at once: a lease never runs out on a row still waiting its turn.
  batchSize: 8,
  concurrency: 8,
  leaseMs: 60_000,
  attemptTimeoutMs: 15_000,
  // From 5 s doubling to half an hour: about 50 attempts in a day, the first few within minutes.
  backoff: { baseMs: 5_000, capMs: 30 * 60_000, jitter: 0.25 },
  limitMarginMs: 50,
  keepDeliveredMs: 7 * 86_400_000,
};

/** The shortest and longest wait a peer's Retry-After may impose (one that says 0 would spin us; a year would stall the lane). */
const RETRY_AFTER_MIN_MS = 1_000;
const RETRY_AFTER_MAX_MS = 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/** One configured target and how long a delivery to it is retried before it is dead-lettered. */
export interface ConfiguredTarget {
  target: NotifyTarget;
  retryForMs: number;
}

/** What became of one attempt: emitted as 'outcome' on `EventDeliveryWorker.outcomes`. */
export interface DeliveryOutcome {
  target: string;
  eventType: string;
  eventId: string;
  ticketId: number | null;
  outcome: 'sent' | 'retry' | 'dead' | 'throttled' | 'deferred';
  detail: string | undefined;
}

export interface TargetStats {
  lastOkAt?: number;
  lastError?: string;
  lastErrorAt?: number;
  delivered: number;
  failed: number;
}

/**
 * Sends desk events to their targets outside Teams (webhooks, PagerDuty, Slack), at least once, in order
 * per target and ticket, within each target's rate limits, and records what each attempt meant: sent,
 * retried with backoff and jitter (or after the peer's Retry-After) for the target's retry period, or
 * dead-lettered. A replica that dies leaves leases that others take over, as the Teams outbox does.
 */
export class EventDeliveryWorker {
  private readonly options: EventDeliveryOptions;
  private readonly owner: string;
  private readonly limiters = new Map<string, SlidingWindowLimiter>();
  /** Per target: the spacing of its tightest limit (a window over its count). */
  private readonly spacing = new Map<string, number>();
  /** Per lane: the last slot handed to a row sent back by the limit, so the next one waits its own turn. */
  private readonly nextSlot = new Map<string, number>();
  /** A lane (target and its key) a peer asked us to leave alone until then (its Retry-After). */
  private readonly pausedUntil = new Map<string, number>();
  private readonly loop: PollingLoop;
  private stopping = false;
  private prunedAt = 0;
  private replicas = 1;
  readonly stats = new Map<string, TargetStats>();
  /** 'outcome' (DeliveryOutcome) after each row is handled: metrics, and tests that wait for a delivery. */
  readonly outcomes = new EventEmitter();

  constructor(
    private readonly deps: {
      database: Database;
      targets: ReadonlyMap<string, ConfiguredTarget>;
      logger: Logger;
      clock?: () => number;
      random?: () => number;
      options?: Partial<EventDeliveryOptions>;
      owner?: string;
      /** Told what each attempt came to (metrics). */
      onResult?: (target: string, outcome: DeliveryOutcome['outcome']) => void;
    },
  ) {
    this.options = { ...DEFAULT_EVENT_DELIVERY_OPTIONS, ...deps.options };
    this.owner = deps.owner ?? `events-${randomUUID()}`;
    for (const [name, { target }] of deps.targets) {
      if (target.limits.length > 0) {
        this.limiters.set(name, new SlidingWindowLimiter(target.limits, this.options.limitMarginMs));
        this.spacing.set(name, Math.max(...target.limits.map((r) => (r.windowMs + this.options.limitMarginMs) / r.limit)));
      }
      this.stats.set(name, { delivered: 0, failed: 0 });
    }
    this.loop = new PollingLoop({
      round: () => this.drainOnce(),
      idleDelay: () => this.idleDelay(),
      onError: (error) => this.deps.logger.error({ err: error }, 'event delivery round failed; retrying at the next poll'),
    });
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Several replicas send to the same peers: each keeps to its share of every target's limit (at least
   * one send per window), so together they stay within it.
   */
  shareLimits(replicas: number): void {
    this.replicas = Math.max(1, replicas);
    for (const [name, { target }] of this.deps.targets) {
      if (target.limits.length === 0) continue;
      const shared = target.limits.map((r) => ({ limit: Math.max(1, Math.floor(r.limit / this.replicas)), windowMs: r.windowMs }));
      this.limiters.get(name)!.setRules(shared, this.options.limitMarginMs);
      this.spacing.set(name, Math.max(...shared.map((r) => (r.windowMs + this.options.limitMarginMs) / r.limit)));
    }
  }

  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    this.stopping = true;
    return this.loop.stop();
  }

  /** Sends everything due now, one round; returns how many rows it handled. */
  async drainOnce(): Promise<number> {
    const { database } = this.deps;
    const claimed = await deliveries.claimDueDeliveries(database.db, database.dialect, { now: this.now(), limit: this.options.batchSize, leaseMs: this.options.leaseMs, owner: this.owner });
    if (claimed.length === 0) return 0;
    const queue = [...claimed];
    const workers = Array.from({ length: Math.min(this.options.concurrency, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        if (this.stopping) {
          // Stopping: hand the rest back instead of sitting on their leases.
          await deliveries.releaseDeliveryLeases(database.db, this.owner, [row.id, ...queue.splice(0).map((r) => r.id)]);
          return;
        }
        await withCorrelation(row.correlationId, () => this.handle(row));
      }
    });
    await Promise.all(workers);
    return claimed.length;
  }

  private async idleDelay(): Promise<number> {
    const now = this.now();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      const pruned = await deliveries.pruneDelivered(this.deps.database.db, now - this.options.keepDeliveredMs);
      if (pruned > 0) this.deps.logger.info({ pruned }, 'deleted delivered events past their keeping time');
    }
    return napUntil(await deliveries.nextDeliveryDueAt(this.deps.database.db), now, this.options.pollIntervalMs);
  }

  private async handle(row: deliveries.ClaimedDelivery): Promise<void> {
    const db = this.deps.database.db;
    const log = this.deps.logger.child({ deliveryId: row.id, target: row.target, event: row.eventType, eventId: row.eventId });
    const configured = this.deps.targets.get(row.target);
    const now = this.now();
    if (!configured) {
      await deliveries.markDeliveryDead(db, row.id, `the integration "${row.target}" is no longer in NOTIFY_CONFIG`, now, this.owner);
      this.tell(row, 'dead', 'not configured');
      log.warn('event not delivered: its integration is no longer configured');
      return;
    }
    const { target } = configured;
    let event: DeskEvent;
    try {
      event = JSON.parse(row.payload) as DeskEvent;
    } catch {
      await deliveries.markDeliveryDead(db, row.id, 'the stored event is not JSON', now, this.owner);
      return;
    }
    const lane = `${row.target}\u0000${target.laneOf(event)}`;
    const wait = this.admit(row.target, lane, now);
    if (wait !== undefined) {
      await deliveries.deferDelivery(db, row.id, wait);
      this.tell(row, 'deferred', undefined);
      return;
    }

    // Our lease may have run out while the row waited (a slow batch) and another replica taken it over.
    if (!(await deliveries.renewLease(db, row.id, this.owner, now + this.options.leaseMs))) return;
    // A re-driven event older than what the target already has would turn its message or alert back.
    if (target.followsTickets && (await deliveries.laterDelivered(db, row))) {
      await deliveries.markDelivered(db, row, { summary: 'skipped: a later event of this ticket was already delivered' }, now, this.owner);
      this.tell(row, 'sent', 'skipped (out of date)');
      return;
    }
    const previousId = row.ticketId === null ? undefined : await deliveries.findIntegrationPost(db, row.target, row.ticketId);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TargetError('transient', `no answer within ${this.options.attemptTimeoutMs / 1000} s`)), this.options.attemptTimeoutMs);
    try {
      const result = await Promise.race([
        target.deliver(event, { previous: previousId === undefined ? undefined : { externalId: previousId }, matched: row.matched, signal: controller.signal }),
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })),
      ]);
      await deliveries.markDelivered(db, row, { summary: result.summary, ...(result.post ? { externalId: result.post.externalId } : {}) }, this.now(), this.owner);
      this.note(row.target, undefined);
      this.tell(row, 'sent', result.summary);
      log.info({ attempts: row.attempts + 1, result: result.summary }, result.skipped ? 'event needed nothing from this target' : 'event delivered');
    } catch (error) {
      await this.recordFailure(row, configured, lane, error, log);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes a slot in the target's limit for this lane, or says when to come back. */
  private admit(target: string, lane: string, now: number): number | undefined {
    const paused = this.pausedUntil.get(lane);
    if (paused !== undefined) {
      if (paused > now) return paused;
      this.pausedUntil.delete(lane);
    }
    const limiter = this.limiters.get(target);
    if (!limiter) return undefined;
    const slot = limiter.check(lane, now);
    if (!slot.ok) {
      // Rows sent back together would all come back at the same instant and all but one be sent back
      // again: each gets a slot of its own, one spacing after the last one handed out.
      const last = this.nextSlot.get(lane) ?? 0;
      const at = Math.max(slot.retryAt, last > now ? last + this.spacing.get(target)! : 0);
      this.nextSlot.set(lane, at);
      if (this.nextSlot.size > 10_000) for (const [key, until] of this.nextSlot) if (until <= now) this.nextSlot.delete(key);
      return at;
    }
    limiter.record(lane, now);
    return undefined;
  }

  private async recordFailure(row: deliveries.ClaimedDelivery, configured: ConfiguredTarget, lane: string, error: unknown, log: Logger): Promise<void> {
    const db = this.deps.database.db;
    const owner = this.owner;
    const now = this.now();
    const failure = error instanceof TargetError ? error : new TargetError('transient', error instanceof Error ? error.message : String(error));
    const summary = `${failure.details.status ? `${failure.details.status}: ` : ''}${failure.message}`;
    this.note(row.target, summary);
    const firstAttemptAt = row.firstAttemptAt ?? now;
    const periodEnds = firstAttemptAt + configured.retryForMs;
    const giveUp = async (why: string) => {
      await deliveries.markDeliveryDead(db, row.id, why, now, owner);
      this.tell(row, 'dead', why);
      log.error({ attempts: row.attempts + 1, error: why }, 'event dead-lettered');
    };
    if (failure.kind === 'permanent') return giveUp(summary);

    // The peer's Retry-After, kept within reason; without one, our backoff, growing with each attempt.
    const asked = failure.details.retryAfterMs;
    const paced = asked === undefined ? undefined : Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, asked));
    const attempt = row.attempts + 1;
    const backoff = backoffDelay(attempt, this.options.backoff, this.deps.random);
    if (failure.kind === 'throttled' && paced !== undefined) {
      const retryAt = now + paced;
      if (retryAt > periodEnds) return giveUp(`${summary} (still throttled at the end of its retry period)`);
      // The whole lane waits: the peer limits us, not this one event. The attempt is not counted.
      this.pausedUntil.set(lane, Math.max(this.pausedUntil.get(lane) ?? 0, retryAt));
      await deliveries.retryDeliveryLater(db, row.id, retryAt, summary, now, { countAttempt: false, owner });
      this.tell(row, 'throttled', summary);
      log.warn({ retryInMs: paced }, 'target asked us to slow down; will retry after its Retry-After');
      return;
    }
    const retryAt = now + Math.max(backoff, paced ?? 0);
    if (retryAt > periodEnds) return giveUp(`${summary} (gave up after ${attempt} attempts over ${Math.round((now - firstAttemptAt) / 60_000)} min)`);
    await deliveries.retryDeliveryLater(db, row.id, retryAt, summary, now, { countAttempt: true, owner });
    this.tell(row, failure.kind === 'throttled' ? 'throttled' : 'retry', summary);
    log.warn({ attempts: attempt, retryInMs: retryAt - now, error: summary }, 'event delivery failed; will retry');
  }

  private tell(row: deliveries.ClaimedDelivery, outcome: DeliveryOutcome['outcome'], detail: string | undefined): void {
    if (outcome !== 'deferred') this.deps.onResult?.(row.target, outcome);
    const told: DeliveryOutcome = { target: row.target, eventType: row.eventType, eventId: row.eventId, ticketId: row.ticketId, outcome, detail };
    this.outcomes.emit('outcome', told);
  }

  private note(target: string, error: string | undefined): void {
    const stats = this.stats.get(target) ?? { delivered: 0, failed: 0 };
    const now = this.now();
    if (error === undefined) {
      stats.delivered += 1;
      stats.lastOkAt = now;
    } else {
      stats.failed += 1;
      stats.lastError = error;
      stats.lastErrorAt = now;
    }
    this.stats.set(target, stats);
  }

  /** The last failure of a target when it is more recent than its last success (for health). */
  lastErrorOf(target: string): string | undefined {
    const s = this.stats.get(target);
    if (!s?.lastError) return undefined;
    return s.lastOkAt !== undefined && s.lastOkAt > (s.lastErrorAt ?? 0) ? undefined : s.lastError;
  }
}
