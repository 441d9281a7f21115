import { describe, expect, it } from 'vitest';
import { clockMs, parseDuration, parsePercent } from '../../src/domain/duration.js';
import { parseConfig } from '../../src/config.js';
import { parseSlaPolicy, DEFAULT_SLA_POLICY } from '../../src/sla-config.js';
import { parseWhen } from '../../src/domain/when.js';

const ms = (text: string, options?: Parameters<typeof parseDuration>[1]) => {
  const parsed = parseDuration(text, options);
  if (!parsed.ok) throw new Error(parsed.error);
  return clockMs(parsed.duration);
};

describe('the one duration grammar', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['30 sec', 30_000],
    ['5m', 300_000],
    ['5 min', 300_000],
    ['30 minutes', 1_800_000],
    ['1.5h', 5_400_000],
    ['2 HOURS', 7_200_000],
    ['2 hrs', 7_200_000],
    ['1d', 86_400_000],
    ['1 day', 86_400_000],
    ['1w', 604_800_000],
    ['2 weeks', 1_209_600_000],
    ['  3   h ', 10_800_000],
  ])('%j is %d ms', (text, expected) => {
    expect(ms(text)).toBe(expected);
  });

  it('reads business hours and days without turning them into wall-clock time', () => {
    expect(parseDuration('2bd')).toEqual({ ok: true, duration: { value: 2, unit: 'd', business: true } });
    expect(parseDuration('1 business day')).toEqual({ ok: true, duration: { value: 1, unit: 'd', business: true } });
    expect(parseDuration('4 business hours')).toEqual({ ok: true, duration: { value: 4, unit: 'h', business: true } });
    expect(parseDuration('3bh')).toEqual({ ok: true, duration: { value: 3, unit: 'h', business: true } });
  });

  it('reads a bare number only where the caller names its unit', () => {
    expect(parseDuration('1500')).toMatchObject({ ok: false, error: expect.stringContaining('needs a unit') });
    expect(ms('1500', { bareUnit: 'ms' })).toBe(1_500);
  });

  it('says what is wrong with what it cannot read', () => {
    expect(parseDuration('3 fortnights')).toMatchObject({ ok: false, error: expect.stringContaining('"fortnights" is not a unit') });
    expect(parseDuration('2 business weeks')).toMatchObject({ ok: false, error: expect.stringContaining('business hours or business days') });
    expect(parseDuration('four hours')).toMatchObject({ ok: false, error: expect.stringContaining('"four hours" is not a duration') });
    expect(parseDuration('-5m')).toMatchObject({ ok: false });
    expect(parseDuration('')).toMatchObject({ ok: false });
  });

  it('reads shares as percentages', () => {
    expect(parsePercent('75%')).toBe(75);
    expect(parsePercent(' 50 % ')).toBe(50);
    expect(parsePercent('150%')).toBeUndefined();
    expect(parsePercent('15m')).toBeUndefined();
  });
});

describe('every reader of durations uses the grammar', () => {
  it('environment variables', () => {
    const graph = { GRAPH_TENANT_ID: 't', GRAPH_CLIENT_ID: 'c', GRAPH_CLIENT_SECRET: 's', SUPPORT_MAILBOX: 'support@contoso.example' };
    const pollEvery = (value: string) => {
      const result = parseConfig({ ...graph, GRAPH_POLL_INTERVAL: value });
      return result.ok ? result.config.graph?.pollIntervalMs : result.problems.join('\n');
    };
    expect(pollEvery('2 minutes')).toBe(120_000);
    expect(pollEvery('45000')).toBe(45_000);
    expect(pollEvery('1bd')).toMatch(/GRAPH_POLL_INTERVAL must be a duration/);
  });

  it('the SLA file', () => {
    const policy = DEFAULT_SLA_POLICY.replace('P1: { firstResponse: 1h, resolution: 8h }', 'P1: { firstResponse: 60 minutes, resolution: 1 business day }').replace(
      'warnings: [75%, 90%]',
      'warnings: [75%, 15 min]',
    );
    const result = parseSlaPolicy(policy, 'sla.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.warnings).toEqual([{ kind: 'percent', percent: 75 }, { kind: 'before', ms: 900_000 }]);
    const ambiguous = parseSlaPolicy(DEFAULT_SLA_POLICY.replace('P1: { firstResponse: 1h, resolution: 8h }', 'P1: { firstResponse: 1h, resolution: 2d }'), 'sla.yaml');
    expect(ambiguous).toMatchObject({ ok: false, problems: [expect.stringContaining('"2d" is not a duration; use 30m, 4h or 2bd')] });
  });

  it('reminders', () => {
    const now = Date.parse('2026-11-25T14:30:00Z');
    expect(parseWhen('in 90 min', now, 'UTC')).toEqual({ ok: true, at: now + 5_400_000 });
    expect(parseWhen('in 1w', now, 'UTC')).toEqual({ ok: true, at: now + 604_800_000 });
  });
});
