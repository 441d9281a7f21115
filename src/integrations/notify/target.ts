import type { WindowRule } from '../../domain/rate-limit.js';
import type { DeskEvent, TicketSnapshot } from '../../domain/desk-events.js';

/**
 * A place outside Teams that desk events go to: a signed webhook, PagerDuty, a Slack channel. The event
 * delivery worker owns the queue (at-least-once, ordered per ticket, retries, Retry-After, dead letters);
 * a target only knows how to send one event and what the peer's answer means.
 */

export type TargetKind = 'webhook' | 'pagerduty' | 'slack';

/** What a target remembers about a ticket it has posted about (a Slack message, a PagerDuty alert). */
export interface ExternalPost {
  /** Opaque to the worker: e.g. `C024BE91L:1700000000.000100` for Slack, the dedup_key for PagerDuty. */
  externalId: string;
}

export interface DeliveryContext {
  /** What this target posted about the ticket before, if anything. */
  previous: ExternalPost | undefined;
  /**
   * true: a notification rule sent this event here. false: the event only follows up a ticket this
   * target posted about before (update the Slack message, acknowledge or resolve the PagerDuty alert).
   */
  matched: boolean;
  /** The attempt's signal: a time-out aborts it. Pass it to the HTTP request. */
  signal: AbortSignal;
}

export interface DeliveryResult {
  /** Plain words for logs and `integrations test`: what the peer answered ("202 accepted", "posted ts 1700…"). */
  summary: string;
  /** Set when this delivery created something later events should follow up (recorded per target and ticket). */
  post?: ExternalPost;
  /** true when nothing was sent because nothing applied (a follow-up the target has no use for). */
  skipped?: boolean;
}

export type TargetFailureKind =
  /** The peer asked us to slow down: try again after `retryAfterMs` (without counting an attempt against the limit). */
  | 'throttled'
  /** 5xx, time-outs, connection errors: retry with backoff. */
  | 'transient'
  /** 4xx other than 408/429, a refused address (SSRF guard), bad configuration: retrying sends the same thing. */
  | 'permanent';

export class TargetError extends Error {
  constructor(
    readonly kind: TargetFailureKind,
    /** Plain words, shown to admins by `integrations test` and in dead letters: never a secret. */
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TargetError';
  }
}

export interface NotifyTarget {
  /** The integration's name from the config file (unique). */
  readonly name: string;
  readonly kind: TargetKind;
  /**
   * Limits of the peer this target keeps to, applied by the worker per `laneOf` key (e.g. Slack: one
   * message a second per channel). Empty: no limit of ours (the peer's 429s still pace us).
   */
  readonly limits: readonly WindowRule[];
  /** The rate-limit key of an event (a Slack channel, the PagerDuty routing key, the webhook URL). */
  laneOf(event: DeskEvent): string;
  /** Where it sends, for `integrations` and health: never a secret (no tokens, keys or query strings). */
  describe(): string;
  /** Sends one event. Throws TargetError for every failure. */
  deliver(event: DeskEvent, context: DeliveryContext): Promise<DeliveryResult>;
  /**
   * Whether events of this ticket should follow up what this target posted (true for Slack messages
   * kept current and PagerDuty alerts acknowledged/resolved; false for webhooks, which only get what
   * rules send them).
   */
  readonly followsTickets: boolean;
  /** Frees what the target holds (its connection pool) at shutdown. */
  close?(): void;
}

/** Renders the current state of a ticket, for targets that refresh what they posted. */
export type SnapshotReader = (ticketId: number) => Promise<TicketSnapshot | undefined>;
