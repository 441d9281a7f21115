/**
 * The desk's events: what happened to a ticket, in the one shape every target outside Teams receives
 * (webhooks, PagerDuty, Slack). A change writes its event in the same transaction as the change itself,
 * so an event is never sent for a change that did not commit, nor lost for one that did.
 *
 * The JSON of `DeskEvent` is the webhook payload: versioned by `version`, documented in the README.
 * Fields are only ever added within a version.
 */

export const DESK_EVENT_TYPES = [
  'ticket.created',
  'ticket.assigned',
  'ticket.status_changed',
  'ticket.priority_changed',
  'ticket.public_reply',
  /** Any other change to a ticket (a note, its tier, files): what keeps mirrored messages current. */
  'ticket.updated',
  'sla.warning',
  'sla.breach',
  'escalation.raised',
  'escalation.accepted',
  'escalation.unanswered',
  'reminder.due',
] as const;

export type DeskEventType = (typeof DESK_EVENT_TYPES)[number];

export const DESK_EVENT_VERSION = 1;

export function isDeskEventType(value: string): value is DeskEventType {
  return (DESK_EVENT_TYPES as readonly string[]).includes(value);
}

export interface EventPerson {
  name: string;
  email: string | null;
}

/** The ticket as it was right after the change. */
export interface TicketSnapshot {
  id: number;
  reference: string;
  subject: string;
  type: string;
  status: string;
  priority: string;
  tier: string;
  /** The Teams team the ticket belongs to, if any. */
  teamId: string | null;
  requester: EventPerson | null;
  assignee: EventPerson | null;
  /** Version of the ticket row after the change. */
  version: number;
  createdAt: string;
  /** When the current SLA clock falls due, if one runs. */
  dueAt: string | null;
}

export interface DeskEvent {
  /** Unique per event and stable across retries (the webhook-id of Standard Webhooks). */
  id: string;
  type: DeskEventType;
  version: typeof DESK_EVENT_VERSION;
  /** ISO 8601, UTC. */
  occurredAt: string;
  /** Who made the change; null for the desk itself (SLA sweep, email intake, reminders). */
  actor: EventPerson | null;
  ticket: TicketSnapshot;
  /**
   * What is particular to the type:
   * - ticket.status_changed: `{ from, to }`; ticket.priority_changed: `{ from, to }`
   * - ticket.assigned: `{ assignee: EventPerson | null }` (null: unassigned)
   * - ticket.public_reply: `{ body }` (the public text only; internal notes never leave the desk)
   * - sla.warning / sla.breach: `{ clock: 'first_response' | 'resolution', threshold?, remainingMinutes? }`
   * - escalation.*: `{ level, levels, target }`; reminder.due: `{ note }`
   */
  data: Record<string, unknown>;
  /** Set on events made by `integrations test`: receivers should not act on them. */
  test?: true;
}

/**
 * An event id from the facts that make the event unique (ticket, version, type, …): the same change
 * gets the same id however often it is recorded. Only `[A-Za-z0-9_:-]`, as Standard Webhooks asks of a
 * `webhook-id` (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 */
export function deskEventId(...parts: ReadonlyArray<string | number>): string {
  return `evt_${parts.map((p) => String(p).replace(/[^A-Za-z0-9_:-]/g, '_')).join('-')}`.slice(0, 256);
}
