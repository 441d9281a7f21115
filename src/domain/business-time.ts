/**
 * Business time, pure: when is "8 business hours after now" in a calendar of weekly opening hours and
 * holidays, in an IANA time zone, across daylight-saving changes; and how much business time passed
 * between two instants. Everything takes and returns epoch milliseconds.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Opening hours of one day, as minutes after local midnight: [start, end), end may be 1440. */
export type Interval = readonly [start: number, end: number];

export interface Calendar {
  name: string;
  timeZone: string;
  /** Per weekday, sorted, non-overlapping intervals; a day without any is closed. */
  week: Readonly<Record<Weekday, readonly Interval[]>>;
  /** Closed dates, as local YYYY-MM-DD. */
  holidays: ReadonlySet<string>;
}

/** Open around the clock in UTC: the calendar of tiers that buy 24×7 support. */
export const ALWAYS_OPEN: Calendar = {
  name: '24x7',
  timeZone: 'UTC',
  week: Object.fromEntries(WEEKDAYS.map((d) => [d, [[0, 1440]]])) as unknown as Record<Weekday, Interval[]>,
  holidays: new Set(),
};

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in a time zone. */
export function localParts(instant: number, timeZone: string): LocalDate & { weekday: Weekday; minute: number; second: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as Weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far the zone is ahead of UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, Math.floor(p.minute / 60), p.minute % 60, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The calendar date `days` after (or before) `date`. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/**
 * The instant a local wall-clock time happens. A time skipped by a spring-forward change is moved
 * forward by the length of the gap (01:30 in a 01:00→02:00 gap is 02:30), and a time that happens twice
 * (fall back) maps to its first occurrence: what Temporal calls "compatible" disambiguation.
 */
export function localToInstant(date: LocalDate, minute: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minute);
  // The zone's offsets a day either side cover any change near this wall time.
  const before = wall - offsetAt(wall - DAY_MS, timeZone);
  const after = wall - offsetAt(wall + DAY_MS, timeZone);
  const shows = (instant: number) => {
    const p = localParts(instant, timeZone);
    return p.year === date.year && p.month === date.month && p.day === date.day && p.minute === minute;
  };
  const candidates = [before, after].filter(shows).sort((a, b) => a - b);
  // In a gap neither shows the wall time; the offset from before the change pushes it forward.
  return candidates[0] ?? before;
}

const DAY_MS = 86_400_000;

function nextDate(date: LocalDate): LocalDate {
  const next = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
}

function weekdayOf(date: LocalDate): Weekday {
  return WEEKDAYS[(new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7]!;
}

export const isoDate = (date: LocalDate): string =>
  `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;

/** A calendar that is never open would make every due time infinite; look this far ahead at most. */
const MAX_DAYS = 3 * 366;

type Period = readonly [open: number, close: number];

/**
 * A day's open periods as instants, memoized per calendar object: time-zone arithmetic is the costly
 * part, and a sweep asks about the same few days again and again.
 */
const dayCache = new WeakMap<Calendar, Map<string, readonly Period[]>>();
const DAY_CACHE_LIMIT = 4_096;

function periodsOfDay(calendar: Calendar, date: LocalDate): readonly Period[] {
  let days = dayCache.get(calendar);
  if (!days) dayCache.set(calendar, (days = new Map()));
  const key = isoDate(date);
  let periods = days.get(key);
  if (!periods) {
    periods = calendar.holidays.has(key)
      ? []
      : calendar.week[weekdayOf(date)]
          .map(([s, e]): Period => [
            localToInstant(date, s, calendar.timeZone),
            e >= 1440 ? localToInstant(nextDate(date), 0, calendar.timeZone) : localToInstant(date, e, calendar.timeZone),
          ])
          .filter(([open, close]) => close > open);
    if (days.size >= DAY_CACHE_LIMIT) days.clear();
    days.set(key, periods);
  }
  return periods;
}

/** The open periods of a calendar from the local day containing `from` onwards, as instants. */
function* openPeriods(calendar: Calendar, from: number): Generator<Period> {
  const start = localParts(from, calendar.timeZone);
  let date: LocalDate = { year: start.year, month: start.month, day: start.day };
  for (let i = 0; i < MAX_DAYS; i++) {
    yield* periodsOfDay(calendar, date);
    date = nextDate(date);
  }
}

export class ClosedCalendarError extends Error {
  constructor(calendar: string) {
    super(`calendar "${calendar}" has no opening hours within ${MAX_DAYS} days`);
    this.name = 'ClosedCalendarError';
  }
}

/** The instant at which `durationMs` of business time has passed since `start`. */
export function addBusinessTime(calendar: Calendar, start: number, durationMs: number): number {
  if (durationMs <= 0) return start;
  let remaining = durationMs;
  for (const [open, close] of openPeriods(calendar, start)) {
    if (close <= start) continue;
    const from = Math.max(open, start);
    if (remaining <= close - from) return from + remaining;
    remaining -= close - from;
  }
  throw new ClosedCalendarError(calendar.name);
}

/** Business time between two instants (0 when `to` is not after `from`). */
export function businessTimeBetween(calendar: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [open, close] of openPeriods(calendar, from)) {
    if (open >= to) break;
    if (close <= from) continue;
    total += Math.min(close, to) - Math.max(open, from);
  }
  return total;
}

/** Whether the calendar is open at `instant`. */
export function isOpen(calendar: Calendar, instant: number): boolean {
  return businessTimeBetween(calendar, instant, instant + 1) === 1;
}
