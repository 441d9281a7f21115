import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { backoffDelay } from '../../domain/backoff.js';

/**
 * The one way the desk calls a peer over HTTP (Graph, HubSpot, and the next ones: webhooks,
 * PagerDuty, Slack, Linear, Jira). Each call gets:
 *
 * - a per-attempt timeout whose AbortSignal is handed to the request, so a peer that never answers
 *   loses the request and its socket, not just our interest in it;
 * - at most `concurrency` requests in flight (p-limit);
 * - a bounded number of attempts (p-retry), retried only when the vendor's typed error says so: after
 *   the time Retry-After asks for, never sooner (RFC 9110 §10.2.3,
 *   https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3), otherwise after exponential backoff with
 *   jitter; a wait longer than `maxInlineWaitMs` goes back to the caller to schedule;
 * - for a request that is not idempotent (`{ idempotent: false }`: sending mail), another attempt only
 *   when the peer certainly did not act on the last one (RFC 9110 §9.2.2,
 *   https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2): it was never sent (the token or the pause
 *   before it failed, the connection was refused) or the peer throttled it. After a timeout or a 5xx
 *   the peer may have done it, so the error goes back to the caller, who can look before trying again;
 * - a pause of the whole peer after a 429: throttling is per app and mailbox (Graph,
 *   https://learn.microsoft.com/en-us/graph/throttling) or per account (HubSpot,
 *   https://developers.hubspot.com/docs/api/usage-details), so no call to that peer goes before the
 *   time it asked for.
 *
 * What still fails comes out as the vendor's typed error (GraphRequestError, HubSpotError, …): the
 * peer maps failures at the boundary and this module only reads what the typed error says.
 */

/** What a vendor's typed error tells the retry loop. */
export interface PeerError extends Error {
  readonly failure: string;
  readonly retryable: boolean;
  readonly details: { retryAfterMs?: number };
}

export interface PeerVendor<E extends PeerError> {
  /** Maps anything a request threw to the vendor's typed error (a typed error passes as it is). */
  toError(error: unknown, what: string): E;
  /** The error for an attempt that did not answer within the timeout. */
  timedOut(what: string): E;
  /** The error for a call refused because the peer asked us to pause longer than we wait inline. */
  paused(what: string, retryAfterMs: number): E;
  /**
   * Whether the peer certainly did not act on the request that failed this way (e.g. the connection
   * was refused before anything was sent). A throttled request counts as not acted on without asking.
   */
  notTaken?(failure: E): boolean;
}

/** Per call. */
export interface CallOptions {
  /**
   * false for a request that must not happen twice (a POST that sends mail): it is tried again only
   * when the peer certainly did not take it (see `PeerVendor.notTaken`). Default true.
   */
  idempotent?: boolean;
}

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  attempts: number;
  /** Per attempt. */
  timeoutMs: number;
  /** Waits (Retry-After, a pause, a backoff) longer than this are not slept through: the error goes to the caller. */
  maxInlineWaitMs: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
}

export interface PeerOptions extends RetryPolicy {
  /** Requests in flight at once (Infinity: no gate). */
  concurrency?: number;
  /** A 429 without Retry-After pauses the peer this long. */
  defaultThrottleMs?: number;
}

export class OutboundPeer<E extends PeerError> {
  private readonly gate: LimitFunction | undefined;
  private until = 0;
  /** Requests sent, and 429s received (for metrics and the benchmarks). */
  readonly counters = { requests: 0, throttled: 0 };

  constructor(
    readonly name: string,
    private readonly vendor: PeerVendor<E>,
    readonly options: PeerOptions,
  ) {
    const concurrency = options.concurrency ?? Infinity;
    this.gate = Number.isFinite(concurrency) ? pLimit(concurrency) : undefined;
  }

  /** No call to this peer goes before this time (epoch ms): the latest Retry-After it sent. */
  get pausedUntil(): number {
    return this.until;
  }

  /** Holds every call to this peer for `ms` from now (a later pause than one already set wins). */
  pause(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.gate?.activeCount ?? 0;
  }

  /**
   * One call, retried while retrying makes sense. `request` gets the attempt's AbortSignal and must
   * pass it to the HTTP request. `before` runs ahead of each attempt, outside the concurrency gate (a
   * peer's own budget); what it throws is mapped like a failed request, but counts as no request, so it
   * is retried like one whether or not the call is idempotent.
   */
  call<T>(what: string, request: (signal: AbortSignal) => Promise<T>, before?: () => Promise<void>, options: CallOptions = {}): Promise<T> {
    return pRetry(
      async () => {
        await this.waitOutPause(what);
        if (before) await before().catch((error: unknown) => this.giveUp(this.vendor.toError(error, what)));
        try {
          return await (this.gate ? this.gate(() => this.attempt(what, request)) : this.attempt(what, request));
        } catch (error) {
          const failure = this.vendor.toError(error, what);
          if (failure.failure === 'throttled') {
            this.counters.throttled++;
            this.pause(failure.details.retryAfterMs ?? this.options.defaultThrottleMs ?? 1_000);
          }
          // It may have been done (a timeout, a 5xx): another attempt could do it twice. The caller decides.
          if (options.idempotent === false && !this.notTaken(failure)) throw new AbortError(failure);
          return this.giveUp(failure);
        }
      },
      {
        retries: Math.max(0, this.options.attempts - 1),
        // The waits are ours (Retry-After or backoff, in shouldRetry), so p-retry adds none.
        minTimeout: 0,
        shouldRetry: async ({ error, attemptNumber }) => {
          const failure = error as E;
          const wait = failure.details.retryAfterMs ?? backoffDelay(attemptNumber, this.options.backoff);
          if (wait > this.options.maxInlineWaitMs) return false;
          await sleep(wait);
          return true;
        },
      },
    );
  }

  /** Whether the peer certainly did not act on the request that failed with `failure`. */
  private notTaken(failure: E): boolean {
    return failure.failure === 'throttled' || this.vendor.notTaken?.(failure) === true;
  }

  /** Throws `failure`: as it is when another attempt may help, past p-retry's loop when none can. */
  private giveUp(failure: E): never {
    if (!failure.retryable) throw new AbortError(failure);
    throw failure;
  }

  private async waitOutPause(what: string): Promise<void> {
    for (let left = this.until - Date.now(); left > 0; left = this.until - Date.now()) {
      if (left > this.options.maxInlineWaitMs) throw new AbortError(this.vendor.paused(what, left));
      await sleep(left);
    }
  }

  /** One request with its own timeout; the timeout aborts the request's signal and wins the race. */
  private attempt<T>(what: string, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.counters.requests++;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = this.vendor.timedOut(what);
        controller.abort(error);
        reject(error);
      }, this.options.timeoutMs);
    });
    return Promise.race([request(controller.signal), timeout]).finally(() => clearTimeout(timer));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
