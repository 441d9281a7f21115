import { describe, expect, it } from 'vitest';
import type { Calendar } from '../../src/domain/business-time.js';
import { parseWhen } from '../../src/domain/when.js';

const at = (iso: string) => Date.parse(iso);
const office: Calendar = {
  name: 'office',
  timeZone: 'Europe/Berlin',
  week: { mon: [[540, 1020]], tue: [[540, 1020]], wed: [[540, 1020]], thu: [[540, 1020]], fri: [[540, 1020]], sat: [], sun: [] },
  holidays: new Set(),
};
// Wednesday 25 Nov 2026, 15:30 in Berlin (CET, UTC+1).
const now = at('2026-11-25T14:30:00Z');
const when = (text: string) => parseWhen(text, now, 'Europe/Berlin', office);

describe('reading "when" for reminders', () => {
  it.each([
    ['in 2h', '2026-11-25T16:30:00Z'],
    ['in 30 minutes', '2026-11-25T15:00:00Z'],
    ['in 1 day', '2026-11-26T14:30:00Z'],
    ['at 16:00', '2026-11-25T15:00:00Z'],
    ['at 9:00', '2026-11-26T08:00:00Z'],
    ['at 4pm', '2026-11-25T15:00:00Z'],
    ['tomorrow 9:00', '2026-11-26T08:00:00Z'],
    ['tomorrow', '2026-11-26T08:00:00Z'],
    ['friday', '2026-11-27T08:00:00Z'],
    ['on friday at 14:30', '2026-11-27T13:30:00Z'],
    ['wednesday', '2026-12-02T08:00:00Z'],
    // 1 business day = 8 h of office time: 1.5 h today, 6.5 h tomorrow → Thursday 15:30 Berlin.
    ['in 1 business day', '2026-11-26T14:30:00Z'],
    ['in 2 business hours', '2026-11-26T08:30:00Z'],
  ])('%s', (text, expected) => {
    expect(when(text)).toEqual({ ok: true, at: at(expected) });
  });

  it('says what it cannot read, and what would work', () => {
    expect(when('someday')).toMatchObject({ ok: false, error: expect.stringContaining('someday') });
    expect(when('in 3 fortnights')).toMatchObject({ ok: false, error: expect.stringContaining('fortnights') });
    expect(when('at 25:00')).toMatchObject({ ok: false });
    expect(when('in 2 business weeks')).toMatchObject({ ok: false });
  });
});
