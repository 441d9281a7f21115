import { addBusinessTime, addDays, localParts, localToInstant, WEEKDAYS, type Calendar, type Weekday } from './business-time.js';
import { clockMs, parseDuration } from './duration.js';
import { businessDayMs } from './sla.js';

/**
 * "When" as people type it, for reminders, pure: `in 2h`, `in 30 minutes`, `in 1 business day`,
 * `at 16:00`, `tomorrow 9:00`, `tomorrow`, `friday`, `friday 14:30`, read in the person's time zone.
 * Business units count in the given calendar. Durations follow the one grammar of ./duration.ts.
 */

export type When = { ok: true; at: number } | { ok: false; error: string };

const DAYS: Record<string, Weekday> = {
  monday: 'mon', mon: 'mon', tuesday: 'tue', tue: 'tue', wednesday: 'wed', wed: 'wed', thursday: 'thu', thu: 'thu',
  friday: 'fri', fri: 'fri', saturday: 'sat', sat: 'sat', sunday: 'sun', sun: 'sun',
};
const DEFAULT_MINUTE = 9 * 60;

export function parseWhen(text: string, now: number, timeZone: string, calendar?: Calendar): When {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.!]$/, '');
  const relative = /^in (\d.*)$/.exec(t);
  if (relative) {
    const parsed = parseDuration(relative[1]!);
    if (!parsed.ok) return { ok: false, error: `${parsed.error}; try “in 30 minutes”, “in 2h” or “in 1 business day”` };
    const d = parsed.duration;
    if (d.business) {
      if (!calendar) return { ok: false, error: 'business time needs a calendar here; use plain hours or days' };
      const ms = d.unit === 'd' ? d.value * businessDayMs(calendar) : d.value * 3_600_000;
      return { ok: true, at: addBusinessTime(calendar, now, Math.round(ms)) };
    }
    const ms = clockMs(d);
    if (ms <= 0 || ms > 366 * 86_400_000) return { ok: false, error: 'pick a time between now and a year from now' };
    return { ok: true, at: now + ms };
  }

  const match = /^(?:(today|tomorrow|on [a-z]+|(?!at\b)[a-z]+) ?)?(?:at )?(?:(\d{1,2})(?::(\d{2}))? ?(am|pm)?)?$/.exec(t);
  if (!match || (!match[1] && !match[2])) return { ok: false, error: `I can't read "${text}" as a time; try “in 2h”, “at 16:00”, “tomorrow 9:00”, “friday” or “in 1 business day”` };
  const dayWord = match[1]?.replace(/^on /, '');
  let minute = DEFAULT_MINUTE;
  if (match[2] !== undefined) {
    let hour = Number(match[2]);
    const mins = Number(match[3] ?? 0);
    if (match[4] === 'pm' && hour < 12) hour += 12;
    if (match[4] === 'am' && hour === 12) hour = 0;
    if (hour > 23 || mins > 59) return { ok: false, error: `"${match[2]}:${match[3] ?? '00'}" is not a time of day` };
    minute = hour * 60 + mins;
  }
  const today = localParts(now, timeZone);
  const dateAfter = (days: number) => addDays(today, days);
  if (!dayWord || dayWord === 'today') {
    const atToday = localToInstant(dateAfter(0), minute, timeZone);
    // "at 16:00" after 16:00 means tomorrow's.
    return { ok: true, at: atToday > now ? atToday : localToInstant(dateAfter(1), minute, timeZone) };
  }
  if (dayWord === 'tomorrow') return { ok: true, at: localToInstant(dateAfter(1), minute, timeZone) };
  const weekday = DAYS[dayWord];
  if (!weekday) return { ok: false, error: `I can't read "${dayWord}" as a day; use today, tomorrow or a weekday` };
  const ahead = (WEEKDAYS.indexOf(weekday) - WEEKDAYS.indexOf(today.weekday) + 7) % 7;
  const candidate = localToInstant(dateAfter(ahead), minute, timeZone);
  return { ok: true, at: candidate > now ? candidate : localToInstant(dateAfter(ahead + 7), minute, timeZone) };
}

