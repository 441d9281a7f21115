import { localParts, localToInstant } from './business-time.js';

/**
 * Quiet hours, pure: a daily range in a person's time zone (it may wrap past midnight, 19:00-08:00)
 * during which non-urgent SLA warnings wait for the morning.
 */

export interface QuietHours {
  from: number;
  until: number;
}

export type QuietHoursParse = { ok: true; quiet: QuietHours | null } | { ok: false; error: string };

export function parseQuietHours(text: string): QuietHoursParse {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'none') return { ok: true, quiet: null };
  const match = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(t);
  if (!match) return { ok: false, error: `"${text}" is not a range such as 19:00-08:00 (or "off")` };
  const [from, until] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
  if (Number(match[1]) > 23 || Number(match[3]) > 23 || Number(match[2]) > 59 || Number(match[4]) > 59 || from === until) {
    return { ok: false, error: `"${text}" is not a range of times of day` };
  }
  return { ok: true, quiet: { from, until } };
}

/** If `now` falls in the quiet hours, the instant they end; otherwise null. */
export function quietUntil(quiet: QuietHours, timeZone: string, now: number): number | null {
  const local = localParts(now, timeZone);
  const date = { year: local.year, month: local.month, day: local.day };
  const next = new Date(Date.UTC(local.year, local.month - 1, local.day + 1));
  const tomorrow = { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
  const m = local.minute;
  if (quiet.from < quiet.until) return m >= quiet.from && m < quiet.until ? localToInstant(date, quiet.until, timeZone) : null;
  if (m >= quiet.from) return localToInstant(tomorrow, quiet.until, timeZone);
  if (m < quiet.until) return localToInstant(date, quiet.until, timeZone);
  return null;
}

export function formatQuietHours(quiet: QuietHours): string {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${hhmm(quiet.from)}-${hhmm(quiet.until)}`;
}
