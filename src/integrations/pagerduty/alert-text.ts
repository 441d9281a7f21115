import type { DeskEvent } from '../../domain/desk-events.js';

/**
 * What a PagerDuty alert about a ticket says: the summary on the responder's phone, the severity that
 * sets the incident's urgency, and the details on the alert page. Pure.
 *
 * Field rules from https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and the PD-CEF
 * table of https://developer.pagerduty.com/docs/events-api-v2/overview/.
 */

/** `payload.summary`: "The maximum permitted length of this property is 1024 characters." */
export const SUMMARY_MAX = 1024;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

const SEVERITY_BY_PRIORITY: Record<string, PagerDutySeverity> = { P1: 'critical', P2: 'error', P3: 'warning', P4: 'info' };

/**
 * P1 critical … P4 info. A priority the desk does not know yet pages as `error`: loud enough not to be
 * missed, short of waking everyone the way `critical` does.
 */
export function severityOf(priority: string): PagerDutySeverity {
  return SEVERITY_BY_PRIORITY[priority] ?? 'error';
}

/** "[P1] INC-1042 Payroll down — SLA breached", at most 1024 characters; "Test: …" for a test event. */
export function alertSummary(event: DeskEvent): string {
  const { ticket } = event;
  const text = `[${ticket.priority}] ${ticket.reference} ${oneLine(ticket.subject)} — ${whatHappened(event)}`;
  return truncate(event.test ? `Test: ${text}` : text, SUMMARY_MAX);
}

/** The alert's details: what a responder needs to find and judge the ticket (no reply bodies, no emails). */
export function customDetails(event: DeskEvent): Record<string, unknown> {
  const { ticket } = event;
  const data = event.data as Record<string, unknown>;
  return {
    reference: ticket.reference,
    subject: ticket.subject,
    event: event.type,
    status: ticket.status,
    priority: ticket.priority,
    tier: ticket.tier,
    type: ticket.type,
    assignee: ticket.assignee?.name ?? null,
    due_at: ticket.dueAt,
    ...(event.type.startsWith('sla.') ? { sla_clock: data.clock ?? null, remaining_minutes: data.remainingMinutes ?? null } : {}),
    ...(event.type.startsWith('escalation.') ? { escalation_level: data.level ?? null, escalation_levels: data.levels ?? null } : {}),
    ...(event.test ? { test: true } : {}),
  };
}

function whatHappened(event: DeskEvent): string {
  const data = event.data as Record<string, unknown>;
  const level = typeof data.level === 'number' ? ` (level ${data.level}${typeof data.levels === 'number' ? ` of ${data.levels}` : ''})` : '';
  switch (event.type) {
    case 'ticket.created':
      return 'new ticket';
    case 'ticket.assigned': {
      const assignee = data.assignee as { name?: unknown } | null | undefined;
      return assignee && typeof assignee.name === 'string' ? `assigned to ${assignee.name}` : 'unassigned';
    }
    case 'ticket.status_changed':
      return `status ${String(data.from ?? '?')} → ${String(data.to ?? event.ticket.status)}`;
    case 'ticket.priority_changed':
      return `priority ${String(data.from ?? '?')} → ${String(data.to ?? event.ticket.priority)}`;
    case 'ticket.public_reply':
      return 'public reply';
    case 'ticket.updated':
      return 'updated';
    case 'sla.warning':
      return typeof data.remainingMinutes === 'number' ? `SLA due in ${data.remainingMinutes} min` : 'SLA due soon';
    case 'sla.breach':
      return 'SLA breached';
    case 'escalation.raised':
      return `escalated${level}`;
    case 'escalation.accepted':
      return `escalation accepted${level}`;
    case 'escalation.unanswered':
      return `escalation unanswered${level}`;
    case 'reminder.due':
      return 'reminder due';
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts at a character, not inside a surrogate pair (PagerDuty counts characters). */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
