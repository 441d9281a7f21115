import type { TicketClocks } from './ticket-sla.js';
import type { TicketType } from './ticket-reference.js';

/** Tickets as the rest of the code sees them, and the rules for changing their status. Pure. */

/**
 * The one list of each enum; the types, the zod schemas (`z.enum(STATUSES)`), the store's row types
 * and the cards' choices all derive from these. (Migrations keep their own literals: they are frozen
 * in time.)
 */
export const STATUSES = ['new', 'open', 'pending', 'on_hold', 'resolved', 'closed'] as const;
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export const TICKET_SOURCES = ['chat', 'channel', 'email', 'api'] as const;

export type TicketStatus = (typeof STATUSES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type TicketSource = (typeof TICKET_SOURCES)[number];

export const OPEN_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending', 'on_hold'];
/** What a person may set a ticket to ("new" is only where tickets start). */
export const SETTABLE_STATUSES = ['open', 'pending', 'on_hold', 'resolved', 'closed'] as const satisfies readonly Exclude<TicketStatus, 'new'>[];

export const STATUS_LABELS: Record<TicketStatus, string> = {
  new: 'New',
  open: 'Open',
  pending: 'Pending customer',
  on_hold: 'On hold',
  resolved: 'Resolved',
  closed: 'Closed',
};

export const PRIORITY_LABELS: Record<Priority, string> = {
  P1: 'P1 · Critical',
  P2: 'P2 · High',
  P3: 'P3 · Normal',
  P4: 'P4 · Low',
};

export interface Ticket {
  id: number;
  reference: string;
  type: TicketType;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: Priority;
  requesterId: number;
  assigneeId: number | null;
  teamId: string | null;
  source: TicketSource;
  createdAt: number;
  updatedAt: number;
  firstResponseAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  version: number;
  tier: string;
  /** Null for tickets from before SLAs were tracked. */
  slaClocks: TicketClocks | null;
  slaDueAt: number | null;
  /** Whether CRM facts are known for the requester: none to look up, looking, known, or the CRM unreachable. */
  crmStatus: CrmStatus;
  /** Where the tier came from; an agent's choice is not overridden by the CRM. */
  tierSource: TierSource;
  /** The mirrored HubSpot ticket, when ticket sync is on. */
  crmTicketId: string | null;
}

export type CrmStatus = 'none' | 'pending' | 'ok' | 'unavailable';
export type TierSource = 'default' | 'crm' | 'agent';

export const isOpenStatus = (status: TicketStatus): boolean => OPEN_STATUSES.includes(status);

export type StatusChange = 'pending' | 'on_hold' | 'resolved' | 'closed' | 'open';

/**
 * Whether `to` may follow `from`; returns the reason when not. Closed is final except for a reopen;
 * a resolved ticket may be closed or reopened; anything open may move between the open states.
 */
export function checkStatusChange(from: TicketStatus, to: StatusChange): string | undefined {
  if (from === to) return `it is already ${STATUS_LABELS[to].toLowerCase()}`;
  if (to === 'open') return undefined;
  if (from === 'closed') return 'it is closed; reopen it first';
  if (from === 'resolved' && to !== 'closed') return 'it is resolved; reopen it first';
  return undefined;
}

export const SUBJECT_MAX = 200;
export const DESCRIPTION_MAX = 4_000;
export const NOTE_MAX = 8_000;

/** A one-line subject from free text: first line, trimmed, at most SUBJECT_MAX characters. */
export function subjectFrom(text: string): string {
  const line = text.split(/\r?\n/)[0]!.trim();
  return line.length > SUBJECT_MAX ? `${line.slice(0, SUBJECT_MAX - 1)}…` : line;
}

/** "5m", "3h", "2d": how long ago, for cards. */
export function ageLabel(since: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - since) / 60_000));
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
