import type { Calendar } from './business-time.js';
import {
  calendarFor,
  dueAt,
  durationMs,
  formatBusinessTime,
  pause,
  resume,
  retarget,
  RESOLUTION_PAUSED_IN,
  standing,
  stop,
  targetsFor,
  warningOffsets,
  type ClockState,
  type SlaPolicy,
} from './sla.js';
import { addBusinessTime } from './business-time.js';
import type { Priority, TicketStatus } from './tickets.js';

/**
 * A ticket's two SLA clocks, driven by what happens to the ticket. Pure: the ticket service calls
 * these inside its transaction and stores the result next to the change that caused it.
 */

export interface TicketClocks {
  firstResponse: ClockState;
  resolution: ClockState;
}

/** What the tickets table stores about SLAs. */
export interface SlaColumns {
  clocks: TicketClocks;
  firstResponseDueAt: number | null;
  resolutionDueAt: number | null;
  /** The earlier due time of the running clocks. */
  dueAt: number | null;
  /** When the sweep next has to look: the next warning threshold or due time still ahead. */
  nextCheckAt: number | null;
}

export interface SlaSubject {
  priority: Priority;
  tier: string;
  teamId: string | null;
}

export function startClocks(policy: SlaPolicy, ticket: SlaSubject, now: number): TicketClocks {
  const calendar = calendarFor(policy, ticket);
  const targets = targetsFor(policy, ticket.priority, ticket.tier);
  return {
    firstResponse: { targetMs: durationMs(targets.firstResponse, calendar), usedMs: 0, runningSince: now, stoppedAt: null },
    resolution: { targetMs: durationMs(targets.resolution, calendar), usedMs: 0, runningSince: now, stoppedAt: null },
  };
}

/** The clocks after a change of status: pending/on hold pause resolution; resolved/closed stop both; reopening restarts resolution. */
export function afterStatusChange(clocks: TicketClocks, from: TicketStatus, to: TicketStatus, calendar: Calendar, now: number): TicketClocks {
  let { firstResponse, resolution } = clocks;
  if (to === 'resolved' || to === 'closed') {
    // Resolving answers the customer: the first response is met then at the latest.
    firstResponse = stop(firstResponse, calendar, now);
    resolution = stop(resolution, calendar, now);
  } else if (RESOLUTION_PAUSED_IN.includes(to)) {
    resolution = pause(resolution, calendar, now);
  } else if (from === 'resolved' || from === 'closed') {
    resolution = { ...resolution, stoppedAt: null, runningSince: now, cycle: (resolution.cycle ?? 0) + 1 };
  } else if (RESOLUTION_PAUSED_IN.includes(from)) {
    resolution = resume(resolution, now);
  }
  return { firstResponse, resolution };
}

export function afterFirstResponse(clocks: TicketClocks, calendar: Calendar, now: number): TicketClocks {
  return { ...clocks, firstResponse: stop(clocks.firstResponse, calendar, now) };
}

/** New targets for a new priority or tier, keeping the business time each clock has used. */
export function afterRetarget(clocks: TicketClocks, policy: SlaPolicy, ticket: SlaSubject, now: number): TicketClocks {
  const calendar = calendarFor(policy, ticket);
  const targets = targetsFor(policy, ticket.priority, ticket.tier);
  const apply = (clock: ClockState, targetMs: number) => (clock.stoppedAt !== null ? clock : retarget(clock, targetMs, calendar, now));
  return {
    firstResponse: apply(clocks.firstResponse, durationMs(targets.firstResponse, calendar)),
    resolution: apply(clocks.resolution, durationMs(targets.resolution, calendar)),
  };
}

export function slaColumns(policy: SlaPolicy, ticket: SlaSubject, clocks: TicketClocks, now: number): SlaColumns {
  const calendar = calendarFor(policy, ticket);
  const firstResponseDueAt = dueAt(clocks.firstResponse, calendar);
  const resolutionDueAt = dueAt(clocks.resolution, calendar);
  const dues = [firstResponseDueAt, resolutionDueAt].filter((d): d is number => d !== null);
  const checks: number[] = [];
  for (const clock of [clocks.firstResponse, clocks.resolution]) {
    const due = dueAt(clock, calendar);
    if (due === null) continue;
    const remaining = clock.targetMs - clock.usedMs;
    for (const { remainingMs } of warningOffsets(clock.targetMs, policy.warnings)) {
      if (remainingMs >= remaining) continue;
      checks.push(addBusinessTime(calendar, clock.runningSince!, remaining - remainingMs));
    }
    checks.push(due);
  }
  const ahead = checks.filter((t) => t > now);
  const passed = checks.filter((t) => t <= now);
  return {
    clocks,
    firstResponseDueAt,
    resolutionDueAt,
    dueAt: dues.length > 0 ? Math.min(...dues) : null,
    // Something already past (a priority raised into breach) needs the sweep now; else the next ahead.
    nextCheckAt: passed.length > 0 ? now : ahead.length > 0 ? Math.min(...ahead) : null,
  };
}

/** One line for the ticket card: the clock that matters most right now, in business time. */
export function slaSummary(policy: SlaPolicy, ticket: SlaSubject & { status: TicketStatus }, clocks: TicketClocks | null, now: number): { text: string; tone: 'good' | 'warning' | 'attention' | 'default' } {
  if (!clocks) return { text: 'Not tracked', tone: 'default' };
  const calendar = calendarFor(policy, ticket);
  const first = standing(clocks.firstResponse, calendar, now);
  const resolution = standing(clocks.resolution, calendar, now);
  if (resolution.state === 'met') return { text: 'Resolution met', tone: 'good' };
  if (first.state === 'breached') return { text: `First response breached ${overdue(first.overdueMs)}`, tone: 'attention' };
  if (resolution.state === 'breached') return { text: `Resolution breached ${overdue(resolution.overdueMs)}`, tone: 'attention' };
  if (resolution.state === 'paused') return { text: `Paused (${ticket.status === 'pending' ? 'pending customer' : 'on hold'}), ${formatBusinessTime(resolution.remainingMs)} left`, tone: 'default' };
  const near = (remaining: number, target: number) => remaining <= target * 0.25;
  if (first.state === 'running') {
    return { text: `First response due in ${formatBusinessTime(first.remainingMs)}`, tone: near(first.remainingMs, clocks.firstResponse.targetMs) ? 'warning' : 'default' };
  }
  if (resolution.state === 'running') {
    return { text: `Resolution due in ${formatBusinessTime(resolution.remainingMs)}`, tone: near(resolution.remainingMs, clocks.resolution.targetMs) ? 'warning' : 'default' };
  }
  return { text: 'Not tracked', tone: 'default' };
}

/** Where one clock stands, in words: "15m left", "breached 10m ago", "paused, 2h left", "met". */
export function clockStandingText(policy: SlaPolicy, ticket: SlaSubject, clocks: TicketClocks | null, clock: 'first_response' | 'resolution', now: number): string {
  if (!clocks) return 'not tracked';
  const s = standing(clock === 'first_response' ? clocks.firstResponse : clocks.resolution, calendarFor(policy, ticket), now);
  switch (s.state) {
    case 'met':
      return 'met';
    case 'paused':
      return `paused, ${formatBusinessTime(s.remainingMs)} left`;
    case 'running':
      return `${formatBusinessTime(s.remainingMs)} left`;
    case 'breached':
      return `breached ${overdue(s.overdueMs)}`;
  }
}

/** "10m ago", or "just now" for a breach less than a minute old (never "0m ago"). */
function overdue(ms: number): string {
  return ms < 60_000 ? 'just now' : `${formatBusinessTime(ms)} ago`;
}
