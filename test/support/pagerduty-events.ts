import { DESK_EVENT_VERSION, type DeskEvent, type DeskEventType, type TicketSnapshot } from '../../src/domain/desk-events.js';

/**
 * DeskEvents as the delivery worker hands them to a target, for the PagerDuty target's tests: a ticket
 * of the test's own (ids counted per call, so tests never share one) and events about it, with fixed
 * timestamps (nothing here depends on today's date).
 */

let nextTicketId = 1000;
let nextEventId = 1;

export function ticketSnapshot(overrides: Partial<TicketSnapshot> = {}): TicketSnapshot {
  const id = overrides.id ?? nextTicketId++;
  return {
    id,
    reference: `INC-${id}`,
    subject: 'Payroll down',
    type: 'incident',
    status: 'open',
    priority: 'P1',
    tier: 'gold',
    teamId: null,
    requester: { name: 'Rita Requester', email: 'rita@example.com' },
    assignee: null,
    version: 1,
    createdAt: '2026-01-05T09:00:00.000Z',
    dueAt: '2026-01-05T13:00:00.000Z',
    ...overrides,
  };
}

/** An event of `type` about `ticket`; `data` defaults to what that type carries. */
export function deskEvent(type: DeskEventType, ticket: TicketSnapshot, overrides: Partial<DeskEvent> = {}): DeskEvent {
  return {
    id: `evt-${nextEventId++}`,
    type,
    version: DESK_EVENT_VERSION,
    occurredAt: '2026-01-05T10:00:00.000Z',
    actor: null,
    ticket,
    data: defaultData(type, ticket),
    ...overrides,
  };
}

/** ticket.assigned to `name` (the ticket's snapshot says so too). */
export function assigned(ticket: TicketSnapshot, name: string): DeskEvent {
  const assignee = { name, email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.com` };
  return deskEvent('ticket.assigned', { ...ticket, assignee, version: ticket.version + 1 }, { data: { assignee } });
}

/** ticket.status_changed from the ticket's status to `to`. */
export function statusChanged(ticket: TicketSnapshot, to: string): DeskEvent {
  return deskEvent('ticket.status_changed', { ...ticket, status: to, version: ticket.version + 1 }, { data: { from: ticket.status, to } });
}

function defaultData(type: DeskEventType, ticket: TicketSnapshot): Record<string, unknown> {
  switch (type) {
    case 'ticket.assigned':
      return { assignee: ticket.assignee };
    case 'ticket.status_changed':
      return { from: 'new', to: ticket.status };
    case 'ticket.priority_changed':
      return { from: 'P3', to: ticket.priority };
    case 'ticket.public_reply':
      return { body: 'We are looking into it.' };
    case 'sla.warning':
      return { clock: 'resolution', threshold: 0.75, remainingMinutes: 30 };
    case 'sla.breach':
      return { clock: 'resolution' };
    case 'escalation.raised':
    case 'escalation.accepted':
    case 'escalation.unanswered':
      return { level: 3, levels: 3, target: 'Tier 3 on call' };
    case 'reminder.due':
      return { note: 'Call the vendor back' };
    default:
      return {};
  }
}
