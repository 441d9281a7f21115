import { addBusinessTime, type Calendar } from './business-time.js';
import { calendarFor, thresholdLabel, used, warningOffsets, type Clock, type ClockState, type SlaPolicy } from './sla.js';
import type { SlaSubject, TicketClocks } from './ticket-sla.js';

/**
 * What the SLA sweep does for one ticket at `now`, pure: which warnings and breaches are due, which of
 * them people should hear about, and when to look again. Each event has a key that is fired at most
 * once. After downtime it catches up honestly: a breach that happened meanwhile is reported as a
 * breach (its warnings are recorded but not sent), and of several warnings that passed only the
 * latest is sent.
 */

export interface SlaEvent {
  clock: Clock;
  kind: 'warning' | 'breach';
  /** `75%`, `15m`, or `breach`. */
  threshold: string;
  cycle: number;
  /** sent: tell people; silent: record only (overtaken, or passed while down); snoozed: record only. */
  outcome: 'sent' | 'silent' | 'snoozed';
  /** Business time left (negative: overdue) when the event fired. */
  remainingMs: number;
}

export const eventKey = (e: Pick<SlaEvent, 'clock' | 'kind' | 'threshold' | 'cycle'>): string => `${e.clock}:${e.kind}:${e.threshold}:${e.cycle}`;

export interface SweepInput {
  policy: SlaPolicy;
  ticket: SlaSubject;
  clocks: TicketClocks;
  now: number;
  /** Keys (eventKey) of events already recorded. */
  fired: ReadonlySet<string>;
  /** Per clock: warnings are silenced until this instant. */
  snoozedUntil: Partial<Record<Clock, number>>;
}

export interface SweepDecision {
  events: SlaEvent[];
  /** When to look at the ticket again, or null when no clock is running. */
  nextCheckAt: number | null;
}

export function sweepTicket(input: SweepInput): SweepDecision {
  const calendar = calendarFor(input.policy, input.ticket);
  const events: SlaEvent[] = [];
  const checks: number[] = [];
  for (const clock of ['first_response', 'resolution'] as const) {
    const state = clock === 'first_response' ? input.clocks.firstResponse : input.clocks.resolution;
    const decided = sweepClock(clock, state, calendar, input);
    events.push(...decided.events);
    if (decided.nextCheckAt !== null) checks.push(decided.nextCheckAt);
  }
  return { events, nextCheckAt: checks.length > 0 ? Math.min(...checks) : null };
}

function sweepClock(clock: Clock, state: ClockState, calendar: Calendar, input: SweepInput): SweepDecision {
  if (state.stoppedAt !== null || state.runningSince === null) return { events: [], nextCheckAt: null };
  const cycle = state.cycle ?? 0;
  const remaining = state.targetMs - used(state, calendar, input.now);
  const fresh = (kind: SlaEvent['kind'], threshold: string) => !input.fired.has(eventKey({ clock, kind, threshold, cycle }));
  const warnings = warningOffsets(state.targetMs, input.policy.warnings);
  const events: SlaEvent[] = [];

  if (remaining <= 0) {
    for (const w of warnings) {
      const threshold = thresholdLabel(w.threshold);
      if (fresh('warning', threshold)) events.push({ clock, kind: 'warning', threshold, cycle, outcome: 'silent', remainingMs: remaining });
    }
    if (fresh('breach', 'breach')) events.push({ clock, kind: 'breach', threshold: 'breach', cycle, outcome: 'sent', remainingMs: remaining });
    return { events, nextCheckAt: null };
  }

  const reached = warnings.filter((w) => w.remainingMs >= remaining);
  const latest = reached[reached.length - 1];
  const snoozed = (input.snoozedUntil[clock] ?? 0) > input.now;
  for (const w of reached) {
    const threshold = thresholdLabel(w.threshold);
    if (!fresh('warning', threshold)) continue;
    const outcome = w !== latest ? 'silent' : snoozed ? 'snoozed' : 'sent';
    events.push({ clock, kind: 'warning', threshold, cycle, outcome, remainingMs: remaining });
  }
  // Next: the next warning still ahead, else the breach. Business time ahead becomes an instant.
  const ahead = warnings.find((w) => w.remainingMs < remaining && fresh('warning', thresholdLabel(w.threshold)));
  const untilNext = ahead ? remaining - ahead.remainingMs : remaining;
  return { events, nextCheckAt: addBusinessTime(calendar, input.now, untilNext) };
}
