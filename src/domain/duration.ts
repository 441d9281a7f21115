/**
 * One grammar for every duration the desk reads: environment variables (`GRAPH_POLL_INTERVAL=30s`),
 * the SLA file (`firstResponse: 4h`, `resolution: 2bd`, warnings `15m` before due, escalation
 * timeouts) and reminders (`in 2h`, `in 30 minutes`, `in 1 business day`). Pure.
 *
 *   duration = number [space] [business space] unit
 *   number   = digits [ "." digits ]                       (2, 1.5, 0.25)
 *   unit     = ms | millisecond(s)
 *            | s | sec | secs | second(s)
 *            | m | min | mins | minute(s)
 *            | h | hr | hrs | hour(s)
 *            | d | day(s)
 *            | w | wk | wks | week(s)
 *            | bh                                         (business hours)
 *            | bd                                         (business days)
 *
 * Case and spacing do not matter ("2H", "2 h", "2 hours"). `business` may stand only before hours or
 * days ("1 business day" = "1bd"): business time counts in a calendar's open hours, so the caller
 * decides what a business day is. A number without a unit is read only where the caller names a unit
 * for it (environment variables: milliseconds). Each caller may still refuse units that make no sense
 * for it (an SLA target in seconds, calendar days in the SLA file) with its own message.
 */

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';

export interface Duration {
  value: number;
  unit: DurationUnit;
  /** Counted in a calendar's open hours (only hours and days can be). */
  business: boolean;
}

export type DurationParse = { ok: true; duration: Duration } | { ok: false; error: string };

export const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const UNIT_WORDS: Readonly<Record<string, DurationUnit>> = {
  ms: 'ms', millisecond: 'ms', milliseconds: 'ms',
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  d: 'd', day: 'd', days: 'd',
  w: 'w', wk: 'w', wks: 'w', week: 'w', weeks: 'w',
};

const GRAMMAR = /^(\d+(?:\.\d+)?) ?(business )?([a-z]+)?$/;

export const DURATION_EXAMPLES = '30s, 5m, 2h, 1d, 1w or 2bd (business days)';

export function parseDuration(text: string, options: { bareUnit?: DurationUnit } = {}): DurationParse {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const match = GRAMMAR.exec(t);
  if (!match) return { ok: false, error: `"${text.trim()}" is not a duration such as ${DURATION_EXAMPLES}` };
  const value = Number(match[1]);
  const word = match[3];
  if (word === undefined) {
    if (match[2] || !options.bareUnit) return { ok: false, error: `"${text.trim()}" needs a unit, such as ${DURATION_EXAMPLES}` };
    return { ok: true, duration: { value, unit: options.bareUnit, business: false } };
  }
  if (!match[2] && (word === 'bd' || word === 'bh')) return { ok: true, duration: { value, unit: word === 'bd' ? 'd' : 'h', business: true } };
  const unit = UNIT_WORDS[word];
  if (!unit) return { ok: false, error: `"${word}" is not a unit of time; use ms, s, m, h, d, w, bh or bd` };
  if (match[2] && unit !== 'h' && unit !== 'd') return { ok: false, error: `"business ${word}" is not something I can count; use business hours or business days` };
  return { ok: true, duration: { value, unit, business: Boolean(match[2]) } };
}

/** Wall-clock milliseconds of a duration that is not business time. */
export function clockMs(duration: Duration): number {
  return Math.round(duration.value * UNIT_MS[duration.unit]);
}

/** `75%`: a share of something (an SLA target used up), 0–99. */
export function parsePercent(text: string): number | undefined {
  const match = /^(\d{1,2})\s*%$/.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}
