import { randomUUID } from 'node:crypto';
import { DESK_EVENT_VERSION, type DeskEvent, type TicketSnapshot } from '../../src/domain/desk-events.js';

/**
 * Desk events for tests of the notify targets (webhooks, PagerDuty, Slack): a plausible ticket and
 * event, with overrides so each test states only what it is about. Every event gets a fresh id.
 */

export function ticketSnapshot(overrides: Partial<TicketSnapshot> = {}): TicketSnapshot {
  return {
    id: 42,
    reference: 'INC-42',
    subject: 'VPN drops every few minutes',
    type: 'incident',
    status: 'open',
    priority: 'high',
    tier: 'tier1',
    teamId: '19:team-general-4f2c@thread.tacv2',
    requester: { name: 'Alex Wilber', email: 'alex@contoso.example' },
    assignee: null,
    version: 1,
    createdAt: '2026-03-02T09:15:00.000Z',
    dueAt: '2026-03-02T13:15:00.000Z',
    ...overrides,
  };
}

export function deskEvent(overrides: Partial<Omit<DeskEvent, 'ticket'>> & { ticket?: Partial<TicketSnapshot> } = {}): DeskEvent {
  const { ticket, ...rest } = overrides;
  return {
    id: `evt_${randomUUID()}`,
    type: 'ticket.created',
    version: DESK_EVENT_VERSION,
    occurredAt: '2026-03-02T09:15:00.000Z',
    actor: { name: 'Alex Wilber', email: 'alex@contoso.example' },
    ticket: ticketSnapshot(ticket),
    data: {},
    ...rest,
  };
}
