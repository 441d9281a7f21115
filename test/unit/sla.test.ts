import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_POLICY, parseSlaPolicy } from '../../src/sla-config.js';
import { calendarFor, dueAt, durationMs, formatBusinessTime, pause, resume, retarget, standing, stop, targetsFor, warningOffsets, type ClockState } from '../../src/domain/sla.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const policy = () => {
  const result = parseSlaPolicy(DEFAULT_SLA_POLICY, 'built-in');
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.policy;
};

describe('SLA policy file', () => {
  it('ships a built-in policy that parses: three tiers, office hours in London, 24×7 for VIPs', () => {
    const p = policy();
    expect(p.tiers).toEqual(['standard', 'premium', 'vip']);
    expect(calendarFor(p, { tier: 'vip', teamId: null }).name).toBe('always');
    expect(calendarFor(p, { tier: 'standard', teamId: null }).timeZone).toBe('Europe/London');
    expect(p.warnings).toEqual([{ kind: 'percent', percent: 75 }, { kind: 'percent', percent: 90 }]);
    // A business day of 09:00–17:30 is 8.5 hours.
    expect(durationMs(targetsFor(p, 'P2', 'standard').resolution, calendarFor(p, { tier: 'standard', teamId: null }))).toBe(17 * H);
  });

  it('reads JSON too, with holidays as dates and ranges and split days', () => {
    const result = parseSlaPolicy(
      JSON.stringify({
        calendars: { support: { timeZone: 'America/New_York', hours: { 'mon-thu': '08:00-12:00, 13:00-17:00', fri: '08:00-12:00' }, holidays: ['2026-11-26', '2026-12-24..2026-12-26'] } },
        defaultCalendar: 'support',
        defaultTier: 'standard',
        tiers: { standard: { P1: { firstResponse: '1h', resolution: '4h' }, P2: { firstResponse: '2h', resolution: '1bd' }, P3: { firstResponse: '4h', resolution: '2bd' }, P4: { firstResponse: '1bd', resolution: '5bd' } } },
        warnings: ['80%', '15m'],
      }),
      'policy.json',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const calendar = result.policy.calendars.support!;
    expect(calendar.week.mon).toEqual([[480, 720], [780, 1020]]);
    expect(calendar.week.fri).toEqual([[480, 720]]);
    expect(calendar.week.sat).toEqual([]);
    expect([...calendar.holidays]).toEqual(['2026-11-26', '2026-12-24', '2026-12-25', '2026-12-26']);
    expect(result.policy.warnings).toEqual([{ kind: 'percent', percent: 80 }, { kind: 'before', ms: 15 * 60_000 }]);
  });

  it('points at the line of every mistake', () => {
    const broken = DEFAULT_SLA_POLICY.replace('timeZone: Europe/London', 'timeZone: Mars/Olympus')
      .replace('P2: { firstResponse: 4h, resolution: 2bd }', 'P2: { firstResponse: four hours, resolution: 2bd }')
      .replace('mon-fri: 09:00-17:30', 'mon-fri: 17:30-09:00')
      .replace('vip: always', 'vip: weekends');
    const result = parseSlaPolicy(broken, 'sla.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lineOf = (needle: string) => broken.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^sla\\.yaml:${lineOf('Mars/Olympus')}:\\d+: calendars\\.office\\.timeZone: "Mars/Olympus" is not an IANA time zone`)),
        expect.stringMatching(new RegExp(`^sla\\.yaml:${lineOf('four hours')}:\\d+: tiers\\.standard\\.P2\\.firstResponse: "four hours" is not a duration`)),
      ]),
    );
    const fixedZone = parseSlaPolicy(broken.replace('Mars/Olympus', 'Europe/London').replace('four hours', '4h'), 'sla.yaml');
    expect(fixedZone.ok).toBe(false);
    if (fixedZone.ok) return;
    expect(fixedZone.problems).toEqual([
      expect.stringMatching(new RegExp(`^sla\\.yaml:${lineOf('17:30-09:00')}:\\d+: calendars\\.office\\.hours: "17:30-09:00" is not a time range`)),
      expect.stringMatching(new RegExp(`^sla\\.yaml:${lineOf('vip: weekends')}:\\d+: calendarForTier\\.vip: no calendar named "weekends"`)),
      expect.stringMatching(/calendars\.office\.hours: the calendar is never open/),
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const result = parseSlaPolicy('calendars:\n  office: [unclosed\n', 'bad.yaml');
    expect(result).toMatchObject({ ok: false, problems: [expect.stringMatching(/^bad\.yaml:\d+:\d+: /)] });
  });
});

describe('SLA clocks', () => {
  const office = () => calendarFor(policy(), { tier: 'standard', teamId: null });
  const start = at('2026-11-23T09:00:00Z'); // Monday 09:00 London
  const fresh = (targetMs: number): ClockState => ({ targetMs, usedMs: 0, runningSince: start, stoppedAt: null });

  it('is due after the target in business time', () => {
    expect(dueAt(fresh(4 * H), office())).toBe(at('2026-11-23T13:00:00Z'));
    expect(dueAt(fresh(10 * H), office())).toBe(at('2026-11-24T10:30:00Z'));
  });

  it('extends the due time by exactly the time paused (pending customer), however long the pause', () => {
    let clock = fresh(4 * H);
    clock = pause(clock, office(), at('2026-11-23T10:00:00Z')); // 1 h used
    expect(standing(clock, office(), at('2026-11-25T10:00:00Z'))).toEqual({ state: 'paused', remainingMs: 3 * H });
    clock = resume(clock, at('2026-11-25T16:30:00Z')); // Wednesday 16:30: 1 h today, 2 h tomorrow
    expect(dueAt(clock, office())).toBe(at('2026-11-26T11:00:00Z'));
  });

  it('keeps the business time used when the priority changes mid-clock', () => {
    const clock = retarget(fresh(8 * H), 2 * H, office(), at('2026-11-23T10:30:00Z')); // 1.5 h used, new target 2 h
    expect(dueAt(clock, office())).toBe(at('2026-11-23T11:00:00Z'));
    const breached = retarget(fresh(8 * H), 1 * H, office(), at('2026-11-23T10:30:00Z'));
    expect(standing(breached, office(), at('2026-11-23T10:30:00Z'))).toMatchObject({ state: 'breached', overdueMs: 0.5 * H });
  });

  it('stops when met, and reports breaches as overdue business time', () => {
    expect(standing(stop(fresh(4 * H), office(), at('2026-11-23T10:00:00Z')), office(), at('2026-11-30T10:00:00Z'))).toEqual({ state: 'met', at: at('2026-11-23T10:00:00Z') });
    expect(standing(fresh(4 * H), office(), at('2026-11-23T14:00:00Z'))).toMatchObject({ state: 'breached', overdueMs: 1 * H });
    expect(standing(fresh(4 * H), office(), at('2026-11-23T12:00:00Z'))).toMatchObject({ state: 'running', remainingMs: 1 * H });
  });

  it('turns thresholds into business time before the due time, latest warning last', () => {
    expect(warningOffsets(4 * H, [{ kind: 'percent', percent: 90 }, { kind: 'percent', percent: 75 }, { kind: 'before', ms: 15 * 60_000 }, { kind: 'before', ms: 8 * H }])).toEqual([
      { threshold: { kind: 'percent', percent: 75 }, remainingMs: 1 * H },
      { threshold: { kind: 'percent', percent: 90 }, remainingMs: 0.4 * H },
      { threshold: { kind: 'before', ms: 15 * 60_000 }, remainingMs: 0.25 * H },
    ]);
  });

  it('formats business time for cards', () => {
    expect([formatBusinessTime(45 * 60_000), formatBusinessTime(2 * H + 5 * 60_000), formatBusinessTime(27 * H)]).toEqual(['45m', '2h 5m', '1d 3h']);
  });
});
