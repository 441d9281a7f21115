import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readLocatedFile } from './config-file.js';
import { clockMs, parseDuration, parsePercent } from './domain/duration.js';
import { isValidTimeZone, WEEKDAYS, type Calendar, type Interval, type Weekday } from './domain/business-time.js';
import type { Duration, EscalationLevel, EscalationTarget, SlaPolicy, Targets, Threshold } from './domain/sla.js';
import { PRIORITIES, type Priority } from './domain/tickets.js';

/**
 * The SLA policy file (`SLA_CONFIG`, YAML or JSON): calendars, targets per tier and priority, warning
 * thresholds. Read once at start; every problem is reported with the line it is on. Without a file the
 * built-in policy below applies (it goes through the same parser).
 */

export const DEFAULT_SLA_POLICY = `# Teams Service Desk SLA policy. Copy this file, edit it, and point SLA_CONFIG at it.
# Durations: 30m, 4h, 2bd (business days of the calendar the ticket counts in).
calendars:
  office:
    timeZone: Europe/London
    hours:
      mon-fri: 09:00-17:30
    holidays: []
  always:
    timeZone: UTC
    hours: 24x7
defaultCalendar: office
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 1h, resolution: 8h }
    P2: { firstResponse: 4h, resolution: 2bd }
    P3: { firstResponse: 1bd, resolution: 5bd }
    P4: { firstResponse: 2bd, resolution: 10bd }
  premium:
    P1: { firstResponse: 30m, resolution: 4h }
    P2: { firstResponse: 2h, resolution: 1bd }
    P3: { firstResponse: 4h, resolution: 3bd }
    P4: { firstResponse: 1bd, resolution: 5bd }
  vip:
    P1: { firstResponse: 15m, resolution: 2h }
    P2: { firstResponse: 1h, resolution: 8h }
    P3: { firstResponse: 2h, resolution: 2bd }
    P4: { firstResponse: 4h, resolution: 3bd }
calendarForTier:
  vip: always
calendarForTeam: {}
# The CRM's tier property (HUBSPOT_TIER_PROPERTY) value → our tier. Values not listed (and no value) mean defaultTier.
crmTiers:
  vip: vip
  platinum: vip
  premium: premium
  gold: premium
  standard: standard
warnings: [75%, 90%]
# Who is asked to take a breached or escalated ticket, level by level, and for how long (wall clock).
# notify: channel:<triage|critical|sla-breaches|escalations> or person:<Entra object id or Teams id>.
# When the last level's time is up, the channel mapped as escalations is alerted.
escalation:
  default:
    - { notify: channel:triage, timeout: 30m }
    - { notify: channel:critical, timeout: 30m }
  teams: {}
`;

export type SlaPolicyResult = { ok: true; policy: SlaPolicy } | { ok: false; problems: string[] };

const TIME_RANGE = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * SLA durations use the one duration grammar (src/domain/duration.ts). Targets count in the calendar's
 * open hours anyway, so "4h" and "4 business hours" are the same; calendar days and weeks are refused
 * because "2d" would be read as business days by some and as 48 hours by others.
 */
function slaDuration(text: string): Duration | undefined {
  const parsed = parseDuration(text);
  if (!parsed.ok) return undefined;
  const d = parsed.duration;
  if (d.unit === 'd' && d.business) return { unit: 'businessDays', value: d.value };
  if (d.unit === 'd' || d.unit === 'w') return undefined;
  return { unit: 'ms', value: clockMs(d) };
}

const durationSchema = z.string().transform((text, ctx): Duration => {
  const duration = slaDuration(text);
  if (!duration) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; use 30m, 4h or 2bd (business days; "2d" would be ambiguous)` });
    return z.NEVER;
  }
  return duration;
});

/** A duration that is a fixed amount of (business) time, not a number of business days. */
const fixedMs = (text: string): number | undefined => {
  const duration = slaDuration(text);
  return duration?.unit === 'ms' ? duration.value : undefined;
};

const targetsSchema = z.object({ firstResponse: durationSchema, resolution: durationSchema }).strict();
const tierSchema = z.object(Object.fromEntries(PRIORITIES.map((p) => [p, targetsSchema])) as Record<Priority, typeof targetsSchema>).strict();

const hoursSchema = z.union([z.literal('24x7'), z.record(z.string(), z.string())]);

const calendarSchema = z
  .object({
    timeZone: z.string().refine(isValidTimeZone, (tz) => ({ message: `"${tz}" is not an IANA time zone such as Europe/London` })),
    hours: hoursSchema,
    holidays: z.array(z.string()).default([]),
  })
  .strict();

const thresholdSchema = z.string().transform((text, ctx): Threshold => {
  const percent = parsePercent(text);
  if (percent !== undefined) return { kind: 'percent', percent };
  const before = fixedMs(text);
  if (before !== undefined) return { kind: 'before', ms: before };
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a warning threshold; use a share of the target (75%) or a time before it is due (15m, 1h)` });
  return z.NEVER;
});

const levelSchema = z
  .object({
    notify: z.string().transform((text, ctx): EscalationTarget => {
      const channel = /^channel:(triage|critical|sla-breaches|escalations)$/.exec(text.trim());
      if (channel) return { kind: 'channel', role: channel[1] as 'triage' };
      const person = /^person:(\S+)$/.exec(text.trim());
      if (person) return { kind: 'person', id: person[1]! };
      ctx.addIssue({ code: 'custom', message: `"${text}" is not channel:<triage|critical|sla-breaches|escalations> or person:<id>` });
      return z.NEVER;
    }),
    timeout: z.string().transform((text, ctx) => {
      const ms = fixedMs(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a timeout such as 30m or 2h` });
        return z.NEVER;
      }
      return ms;
    }),
  })
  .strict()
  .transform((level): EscalationLevel => ({ notify: level.notify, timeoutMs: level.timeout }));

const fileSchema = z
  .object({
    calendars: z.record(z.string(), calendarSchema),
    defaultCalendar: z.string(),
    defaultTier: z.string(),
    tiers: z.record(z.string(), tierSchema),
    calendarForTier: z.record(z.string(), z.string()).default({}),
    calendarForTeam: z.record(z.string(), z.string()).default({}),
    crmTiers: z.record(z.string(), z.string()).default({}),
    warnings: z.array(thresholdSchema).default([]),
    escalation: z
      .object({ default: z.array(levelSchema).default([]), teams: z.record(z.string(), z.array(levelSchema)).default({}) })
      .strict()
      .default({}),
  })
  .strict();

export function loadSlaPolicy(path: string | undefined): SlaPolicyResult {
  if (!path) return parseSlaPolicy(DEFAULT_SLA_POLICY, 'built-in SLA policy');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`SLA_CONFIG: cannot read ${path}: ${(error as Error).message}`] };
  }
  return parseSlaPolicy(text, path);
}

export function parseSlaPolicy(text: string, source: string): SlaPolicyResult {
  const read = readLocatedFile(text, source, fileSchema);
  if (!read.ok) return read;
  const { where } = read;
  const file = read.value;
  const problems: string[] = [];
  const calendars: Record<string, Calendar> = {};
  for (const [name, spec] of Object.entries(file.calendars)) {
    const week = parseHours(spec.hours, (path, message) => problems.push(`${where(['calendars', name, 'hours', ...path])}: calendars.${name}.hours: ${message}`));
    const holidays = new Set<string>();
    spec.holidays.forEach((entry, index) => {
      const dates = expandHoliday(entry);
      if (!dates) problems.push(`${where(['calendars', name, 'holidays', index])}: calendars.${name}.holidays.${index}: "${entry}" is not a date (2026-12-25) or a range (2026-12-24..2027-01-01)`);
      else for (const date of dates) holidays.add(date);
    });
    calendars[name] = { name, timeZone: spec.timeZone, week, holidays };
  }
  const knownCalendar = (name: string, path: Array<string | number>) => {
    if (!calendars[name]) problems.push(`${where(path)}: ${path.join('.')}: no calendar named "${name}" (defined: ${Object.keys(calendars).join(', ')})`);
  };
  knownCalendar(file.defaultCalendar, ['defaultCalendar']);
  for (const [tier, name] of Object.entries(file.calendarForTier)) {
    knownCalendar(name, ['calendarForTier', tier]);
    if (!file.tiers[tier]) problems.push(`${where(['calendarForTier', tier])}: calendarForTier.${tier}: no tier named "${tier}"`);
  }
  for (const [team, name] of Object.entries(file.calendarForTeam)) knownCalendar(name, ['calendarForTeam', team]);
  for (const [value, tier] of Object.entries(file.crmTiers)) {
    if (!file.tiers[tier]) problems.push(`${where(['crmTiers', value])}: crmTiers.${value}: no tier named "${tier}"`);
  }
  if (!file.tiers[file.defaultTier]) problems.push(`${where(['defaultTier'])}: defaultTier: no tier named "${file.defaultTier}"`);
  for (const [name, calendar] of Object.entries(calendars)) {
    if (WEEKDAYS.every((d) => calendar.week[d].length === 0)) problems.push(`${where(['calendars', name, 'hours'])}: calendars.${name}.hours: the calendar is never open`);
  }
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    policy: {
      tiers: Object.keys(file.tiers),
      defaultTier: file.defaultTier,
      targets: file.tiers as Record<string, Record<Priority, Targets>>,
      calendars,
      calendarOf: { default: file.defaultCalendar, tiers: file.calendarForTier, teams: file.calendarForTeam },
      warnings: file.warnings,
      escalation: { default: file.escalation.default, teams: file.escalation.teams },
      // Matched without regard to case or surrounding spaces: CRM values are typed by people.
      crmTiers: Object.fromEntries(Object.entries(file.crmTiers).map(([value, tier]) => [value.trim().toLowerCase(), tier])),
    },
  };
}

/** `24x7`, or day keys (`mon`, `mon-fri`, `sat,sun`) to `09:00-17:30` or `09:00-12:00, 13:00-17:00`. */
function parseHours(spec: '24x7' | Record<string, string>, problem: (path: string[], message: string) => void): Record<Weekday, Interval[]> {
  const week = Object.fromEntries(WEEKDAYS.map((d) => [d, [] as Interval[]])) as Record<Weekday, Interval[]>;
  if (spec === '24x7') {
    for (const d of WEEKDAYS) week[d] = [[0, 1440]];
    return week;
  }
  for (const [key, value] of Object.entries(spec)) {
    const days = expandDays(key);
    if (!days) {
      problem([key], `"${key}" is not a day or a range of days (mon, mon-fri, sat,sun)`);
      continue;
    }
    const intervals: Interval[] = [];
    for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const match = TIME_RANGE.exec(part);
      const start = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
      const end = match ? Number(match[3]) * 60 + Number(match[4]) : NaN;
      if (!match || Number(match[2]) > 59 || Number(match[4]) > 59 || start >= end || end > 1440) {
        problem([key], `"${part}" is not a time range such as 09:00-17:30`);
        continue;
      }
      intervals.push([start, end]);
    }
    intervals.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) {
      if (intervals[i]![0] < intervals[i - 1]![1]) problem([key], `the ranges in "${value}" overlap`);
    }
    for (const day of days) week[day] = intervals;
  }
  return week;
}

function expandDays(key: string): Weekday[] | undefined {
  const days: Weekday[] = [];
  for (const part of key.toLowerCase().split(',').map((p) => p.trim())) {
    const [from, to] = part.split('-').map((p) => p.trim().slice(0, 3)) as [string, string | undefined];
    const a = WEEKDAYS.indexOf(from as Weekday);
    const b = to === undefined ? a : WEEKDAYS.indexOf(to as Weekday);
    if (a < 0 || b < 0 || b < a) return undefined;
    days.push(...WEEKDAYS.slice(a, b + 1));
  }
  return days;
}

function expandHoliday(entry: string): string[] | undefined {
  const [from, to = from] = entry.split('..').map((p) => p.trim()) as [string, string | undefined];
  if (!DATE.test(from) || !DATE.test(to!)) return undefined;
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start || end - start > 366 * 86_400_000) return undefined;
  const dates: string[] = [];
  for (let t = start; t <= end; t += 86_400_000) dates.push(new Date(t).toISOString().slice(0, 10));
  return dates;
}
