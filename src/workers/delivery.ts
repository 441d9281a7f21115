/**
 * What the outbox worker needs from Teams, the size of what it uses. src/teams implements it over the
 * Bot Framework connector; the worker itself never imports botbuilder.
 */

export interface DeliveryTarget {
  /** The stored botbuilder ConversationReference, opaque here. */
  reference: unknown;
  conversationId: string;
}

export interface DeliveryRequest {
  operation: 'send' | 'reply' | 'update';
  target: DeliveryTarget;
  /** Thread root for `reply`, the activity to replace for `update`. */
  targetActivityId: string | null;
  activity: Record<string, unknown>;
}

export interface Delivery {
  deliver(request: DeliveryRequest): Promise<{ activityId: string | undefined }>;
}

export type DeliveryFailureKind =
  /** 429: try again after `retryAfterMs`. */
  | 'throttled'
  /** 403: the bot was removed or blocked; retrying will not help. */
  | 'forbidden'
  /** 404 on the conversation: it is gone. */
  | 'not-found'
  /** 412, 5xx, timeouts and network errors: worth retrying with backoff. */
  | 'transient'
  /** Anything else (400, a payload Teams rejects): retrying sends the same bad request. */
  | 'permanent';

export class DeliveryError extends Error {
  constructor(
    readonly kind: DeliveryFailureKind,
    message: string,
    readonly details: { status?: number; code?: string; retryAfterMs?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

/** Renders a ticket's card for one conversation at send time, so a card never goes out stale. */
export interface CardRenderer {
  /** Undefined when the ticket no longer exists. `version` is the ticket version the card shows. */
  render(ticketId: number, cardKind: string, conversation: { id: number; kind: string; teamId: string | null; userAadObjectId: string | null; userTeamsId: string | null }): Promise<{ activity: Record<string, unknown>; version: number } | undefined>;
  currentVersion(ticketId: number): Promise<number | undefined>;
}
