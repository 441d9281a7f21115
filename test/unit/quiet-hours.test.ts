import { describe, expect, it } from 'vitest';
import { formatQuietHours, parseQuietHours, quietUntil } from '../../src/domain/quiet-hours.js';

const at = (iso: string) => Date.parse(iso);

describe('quiet hours', () => {
  const night = { from: 19 * 60, until: 8 * 60 };

  it('reads ranges, including ones that wrap past midnight, and "off"', () => {
    expect(parseQuietHours('19:00-08:00')).toEqual({ ok: true, quiet: night });
    expect(parseQuietHours('off')).toEqual({ ok: true, quiet: null });
    expect(parseQuietHours('7pm to 8am')).toMatchObject({ ok: false });
    expect(parseQuietHours('25:00-08:00')).toMatchObject({ ok: false });
    expect(formatQuietHours(night)).toBe('19:00-08:00');
  });

  it('says when quiet hours end, in the person’s time zone, or null outside them', () => {
    // Berlin is UTC+1 in November.
    expect(quietUntil(night, 'Europe/Berlin', at('2026-11-23T19:30:00Z'))).toBe(at('2026-11-24T07:00:00Z'));
    expect(quietUntil(night, 'Europe/Berlin', at('2026-11-24T05:00:00Z'))).toBe(at('2026-11-24T07:00:00Z'));
    expect(quietUntil(night, 'Europe/Berlin', at('2026-11-24T12:00:00Z'))).toBeNull();
    expect(quietUntil({ from: 12 * 60, until: 13 * 60 }, 'UTC', at('2026-11-24T12:30:00Z'))).toBe(at('2026-11-24T13:00:00Z'));
  });
});
