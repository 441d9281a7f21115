import { addBusinessTime, businessTimeBetween, WEEKDAYS, type Calendar } from './business-time.js';
import type { Priority, TicketStatus } from './tickets.js';

/**
 * SLA policy and clocks, pure. A ticket has two clocks, first response and resolution, each with a
 * target from its priority × customer tier, counted in business time in one calendar. Pending-customer
 * and on-hold pause the resolution clock: the time paused is not counted, so the due time moves out.
 * Changing priority or tier keeps the business time already used and applies the new target to it.
 */

export type Clock = 'first_response' | 'resolution';

/** A target: an amount of business time, or of business days of the calendar it is counted in. */
export type Duration = { unit: 'ms'; value: number } | { unit: 'businessDays'; value: number };

export interface Targets {
  firstResponse: Duration;
  resolution: Duration;
}

/** Warn at a share of the target used, or at a fixed business time before it is due. */
export type Threshold = { kind: 'percent'; percent: number } | { kind: 'before'; ms: number };

/** Who an escalation level asks: a mapped channel, or one person (by Entra object id or Teams id). */
export type EscalationTarget = { kind: 'channel'; role: 'triage' | 'critical' | 'sla-breaches' | 'escalations' } | { kind: 'person'; id: string };

export interface EscalationLevel {
  notify: EscalationTarget;
  /** Wall-clock time the level has to accept before the next level is asked. */
  timeoutMs: number;
}

export interface SlaPolicy {
  tiers: readonly string[];
  defaultTier: string;
  targets: Readonly<Record<string, Readonly<Record<Priority, Targets>>>>;
  calendars: Readonly<Record<string, Calendar>>;
  /** Which calendar a ticket counts in: its team's if the team has one, else its tier's, else the default. */
  calendarOf: { default: string; tiers: Readonly<Record<string, string>>; teams: Readonly<Record<string, string>> };
  warnings: readonly Threshold[];
  /** Escalation chains: a team's own, else the default. */
  escalation: { default: readonly EscalationLevel[]; teams: Readonly<Record<string, readonly EscalationLevel[]>> };
  /** CRM tier values (lower-cased) → tiers of this policy. */
  crmTiers: Readonly<Record<string, string>>;
}

/** Our tier for a CRM tier value: mapped, or the tier of the same name, else undefined (→ the default). */
export function tierFromCrm(policy: SlaPolicy, value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const key = value.trim().toLowerCase();
  return policy.crmTiers[key] ?? (policy.tiers.includes(key) ? key : undefined);
}

export function escalationLevels(policy: SlaPolicy, teamId: string | null): readonly EscalationLevel[] {
  return (teamId ? policy.escalation.teams[teamId] : undefined) ?? policy.escalation.default;
}

export function thresholdLabel(threshold: Threshold): string {
  return threshold.kind === 'percent' ? `${threshold.percent}%` : `${Math.round(threshold.ms / 60_000)}m`;
}

/** Business milliseconds in one business day of a calendar: its average open day. */
export function businessDayMs(calendar: Calendar): number {
  const days = WEEKDAYS.map((d) => calendar.week[d].reduce((sum, [s, e]) => sum + (e - s), 0)).filter((m) => m > 0);
  return days.length === 0 ? 0 : (days.reduce((a, b) => a + b, 0) / days.length) * 60_000;
}

export function durationMs(duration: Duration, calendar: Calendar): number {
  return duration.unit === 'ms' ? duration.value : Math.round(duration.value * businessDayMs(calendar));
}

export function calendarFor(policy: SlaPolicy, ticket: { tier: string; teamId: string | null }): Calendar {
  const name = (ticket.teamId ? policy.calendarOf.teams[ticket.teamId] : undefined) ?? policy.calendarOf.tiers[ticket.tier] ?? policy.calendarOf.default;
  return policy.calendars[name]!;
}

export function targetsFor(policy: SlaPolicy, priority: Priority, tier: string): Targets {
  return (policy.targets[tier] ?? policy.targets[policy.defaultTier]!)[priority];
}

/** Where a clock stands: business time used before the current running stretch, and since when it runs. */
export interface ClockState {
  targetMs: number;
  /** Business ms counted before `runningSince`. */
  usedMs: number;
  /** When the clock last started or resumed; null while paused or stopped. */
  runningSince: number | null;
  /** When the clock was met (first response given, ticket resolved); null while open. */
  stoppedAt: number | null;
  /** Bumped when a stopped clock starts again (a reopened ticket), so its warnings can fire again. */
  cycle?: number;
}

export const RESOLUTION_PAUSED_IN: readonly TicketStatus[] = ['pending', 'on_hold'];

/** Business time used so far. */
export function used(clock: ClockState, calendar: Calendar, now: number): number {
  return clock.usedMs + (clock.runningSince === null ? 0 : businessTimeBetween(calendar, clock.runningSince, now));
}

/** When the clock will run out if it keeps running; null while paused or stopped. */
export function dueAt(clock: ClockState, calendar: Calendar): number | null {
  if (clock.runningSince === null || clock.stoppedAt !== null) return null;
  return addBusinessTime(calendar, clock.runningSince, Math.max(0, clock.targetMs - clock.usedMs));
}

export function pause(clock: ClockState, calendar: Calendar, now: number): ClockState {
  if (clock.runningSince === null) return clock;
  return { ...clock, usedMs: used(clock, calendar, now), runningSince: null };
}

export function resume(clock: ClockState, now: number): ClockState {
  if (clock.runningSince !== null || clock.stoppedAt !== null) return clock;
  return { ...clock, runningSince: now };
}

export function stop(clock: ClockState, calendar: Calendar, now: number): ClockState {
  if (clock.stoppedAt !== null) return clock;
  return { ...clock, usedMs: used(clock, calendar, now), runningSince: null, stoppedAt: now };
}

/** A new target (priority or tier changed), keeping the business time already used. */
export function retarget(clock: ClockState, targetMs: number, calendar: Calendar, now: number): ClockState {
  const running = clock.runningSince !== null;
  const settled = { ...clock, usedMs: used(clock, calendar, now), runningSince: running ? now : null };
  return { ...settled, targetMs };
}

/** The business time before the due time at which each warning threshold fires. */
export function warningOffsets(targetMs: number, thresholds: readonly Threshold[]): Array<{ threshold: Threshold; remainingMs: number }> {
  return thresholds
    .map((threshold) => ({
      threshold,
      remainingMs: threshold.kind === 'percent' ? Math.round(targetMs * (1 - threshold.percent / 100)) : threshold.ms,
    }))
    .filter((w) => w.remainingMs > 0 && w.remainingMs < targetMs)
    .sort((a, b) => b.remainingMs - a.remainingMs);
}

export type SlaStanding =
  | { state: 'met'; at: number }
  | { state: 'paused'; remainingMs: number }
  | { state: 'running'; remainingMs: number; dueAt: number }
  | { state: 'breached'; overdueMs: number; dueAt: number };

/** How a clock stands at `now`, in business time. */
export function standing(clock: ClockState, calendar: Calendar, now: number): SlaStanding {
  if (clock.stoppedAt !== null) return { state: 'met', at: clock.stoppedAt };
  const spent = used(clock, calendar, now);
  if (clock.runningSince === null) return { state: 'paused', remainingMs: clock.targetMs - spent };
  const due = dueAt(clock, calendar)!;
  return spent >= clock.targetMs ? { state: 'breached', overdueMs: spent - clock.targetMs, dueAt: due } : { state: 'running', remainingMs: clock.targetMs - spent, dueAt: due };
}

/** "2h 5m", "3d 4h": business time for people. */
export function formatBusinessTime(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}
