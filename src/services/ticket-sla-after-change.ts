import { calendarFor, type SlaPolicy } from '../domain/sla.js';
import { afterFirstResponse, afterRetarget, afterStatusChange, slaColumns, type SlaColumns } from '../domain/ticket-sla.js';
import type { Ticket } from '../domain/tickets.js';
import type { TicketChanges } from '../store/tickets.js';

/**
 * The ticket's SLA clocks after a change: retargeted (new priority or tier, keeping the business time
 * already used), paused, resumed or stopped (status), or the first-response clock stopped. Undefined
 * when the change leaves the clocks as they were.
 */
export function slaAfterChange(policy: SlaPolicy, ticket: Ticket, changes: TicketChanges, now: number): SlaColumns | undefined {
  if (!ticket.slaClocks) return undefined;
  const subject = { priority: changes.priority ?? ticket.priority, tier: changes.tier ?? ticket.tier, teamId: ticket.teamId };
  const calendar = calendarFor(policy, subject);
  let clocks = ticket.slaClocks;
  if (subject.priority !== ticket.priority || subject.tier !== ticket.tier) clocks = afterRetarget(clocks, policy, subject, now);
  if (changes.status !== undefined && changes.status !== ticket.status) clocks = afterStatusChange(clocks, ticket.status, changes.status, calendar, now);
  if (changes.firstResponseAt !== undefined) clocks = afterFirstResponse(clocks, calendar, now);
  return clocks === ticket.slaClocks ? undefined : slaColumns(policy, subject, clocks, now);
}
