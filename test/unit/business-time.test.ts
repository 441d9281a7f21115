import { describe, expect, it } from 'vitest';
import { addBusinessTime, ALWAYS_OPEN, businessTimeBetween, ClosedCalendarError, isOpen, localToInstant, type Calendar } from '../../src/domain/business-time.js';

const H = 3_600_000;
const M = 60_000;
const at = (iso: string) => Date.parse(iso);

/** Mon–Fri 09:00–17:00 in London, closed on Christmas and Boxing Day 2026. */
const london: Calendar = {
  name: 'london',
  timeZone: 'Europe/London',
  week: { mon: [[540, 1020]], tue: [[540, 1020]], wed: [[540, 1020]], thu: [[540, 1020]], fri: [[540, 1020]], sat: [], sun: [] },
  holidays: new Set(['2026-12-25', '2026-12-28']),
};

/** Split days with a lunch break, in New York. */
const newYork: Calendar = {
  name: 'ny',
  timeZone: 'America/New_York',
  week: { mon: [[480, 720], [780, 1020]], tue: [[480, 720], [780, 1020]], wed: [[480, 720], [780, 1020]], thu: [[480, 720], [780, 1020]], fri: [[480, 720], [780, 1020]], sat: [], sun: [] },
  holidays: new Set(),
};

describe('business time, worked by hand', () => {
  it('stays within a day when there is room', () => {
    // Monday 23 Nov 2026, 10:00 London (GMT) + 4 h → 14:00.
    expect(addBusinessTime(london, at('2026-11-23T10:00:00Z'), 4 * H)).toBe(at('2026-11-23T14:00:00Z'));
  });

  it('carries over the night: Monday 16:00 + 3 h → Tuesday 11:00', () => {
    expect(addBusinessTime(london, at('2026-11-23T16:00:00Z'), 3 * H)).toBe(at('2026-11-24T11:00:00Z'));
  });

  it('starts the clock at opening time when the ticket arrives outside hours', () => {
    // Saturday 02:00 → Monday 09:00 + 1 h.
    expect(addBusinessTime(london, at('2026-11-28T02:00:00Z'), 1 * H)).toBe(at('2026-11-30T10:00:00Z'));
  });

  it('skips the weekend: Friday 16:30 + 1 h → Monday 09:30', () => {
    expect(addBusinessTime(london, at('2026-11-27T16:30:00Z'), 1 * H)).toBe(at('2026-11-30T09:30:00Z'));
  });

  it('skips holidays: Thursday 24 Dec 16:00 + 2 h → Tuesday 29 Dec 10:00 (Friday 25th and Monday 28th closed)', () => {
    expect(addBusinessTime(london, at('2026-12-24T16:00:00Z'), 2 * H)).toBe(at('2026-12-29T10:00:00Z'));
  });

  it('skips lunch in a split day', () => {
    // Monday 11:00 EST (16:00Z) + 2 h → 12:00 (1 h) then 13:00–14:00 → 14:00 EST = 19:00Z.
    expect(addBusinessTime(newYork, at('2026-11-23T16:00:00Z'), 2 * H)).toBe(at('2026-11-23T19:00:00Z'));
  });

  it('keeps business hours in local time across the spring DST change', () => {
    // London moves to BST on Sunday 29 March 2026. Friday 27 Mar 16:00 GMT + 2 h → Monday 30 Mar 10:00 BST = 09:00Z.
    expect(addBusinessTime(london, at('2026-03-27T16:00:00Z'), 2 * H)).toBe(at('2026-03-30T09:00:00Z'));
  });

  it('keeps business hours in local time across the autumn DST change', () => {
    // Back to GMT on Sunday 25 Oct 2026. Friday 23 Oct 16:00 BST (15:00Z) + 2 h → Monday 26 Oct 10:00 GMT = 10:00Z.
    expect(addBusinessTime(london, at('2026-10-23T15:00:00Z'), 2 * H)).toBe(at('2026-10-26T10:00:00Z'));
  });

  it('counts a 24×7 day across a DST change as the hours that really pass', () => {
    const always: Calendar = { ...ALWAYS_OPEN, timeZone: 'Europe/London', name: 'london-24x7' };
    // The local day London springs forward is 23 hours long; 24 real hours still count as 24.
    expect(businessTimeBetween(always, at('2026-03-29T00:00:00Z'), at('2026-03-29T23:00:00Z'))).toBe(23 * H);
    expect(businessTimeBetween(always, at('2026-03-29T00:00:00Z'), at('2026-03-30T00:00:00Z'))).toBe(24 * H);
    expect(addBusinessTime(always, at('2026-03-28T23:00:00Z'), 24 * H)).toBe(at('2026-03-29T23:00:00Z'));
  });

  it('moves a wall time inside the spring-forward gap forward by the gap, and maps an ambiguous one to the first', () => {
    // 01:30 does not exist on 29 March in London: it becomes 02:30 BST.
    expect(localToInstant({ year: 2026, month: 3, day: 29 }, 60 + 30, 'Europe/London')).toBe(at('2026-03-29T01:30:00Z'));
    expect(localToInstant({ year: 2026, month: 10, day: 25 }, 60 + 30, 'Europe/London')).toBe(at('2026-10-25T00:30:00Z'));
  });

  it('measures elapsed business time, the inverse of adding it', () => {
    expect(businessTimeBetween(london, at('2026-11-27T16:30:00Z'), at('2026-11-30T09:30:00Z'))).toBe(1 * H);
    expect(businessTimeBetween(london, at('2026-11-28T00:00:00Z'), at('2026-11-29T23:00:00Z'))).toBe(0);
    expect(isOpen(london, at('2026-11-23T12:00:00Z'))).toBe(true);
    expect(isOpen(london, at('2026-11-23T17:00:00Z'))).toBe(false);
    expect(isOpen(london, at('2026-12-25T12:00:00Z'))).toBe(false);
  });

  it('refuses a calendar that is never open instead of looping', () => {
    const closed: Calendar = { ...london, name: 'closed', week: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    expect(() => addBusinessTime(closed, at('2026-11-23T10:00:00Z'), 1 * M)).toThrow(ClosedCalendarError);
  });
});

describe('business time, properties', () => {
  // A small deterministic generator, so a failure can be replayed.
  let seed = 7;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  const instants = Array.from({ length: 120 }, () => at('2026-01-01T00:00:00Z') + Math.floor(random() * 365 * 24) * H + Math.floor(random() * 60) * M);
  const durations = Array.from({ length: 120 }, () => Math.floor(random() * 60 * H));

  it.each([london, newYork])('$name: more elapsed time never means an earlier due time (monotone in start and in duration)', (calendar) => {
    for (let i = 0; i < instants.length; i++) {
      const start = instants[i]!;
      const duration = durations[i]!;
      const due = addBusinessTime(calendar, start, duration);
      expect(addBusinessTime(calendar, start + 37 * M, duration)).toBeGreaterThanOrEqual(due);
      expect(addBusinessTime(calendar, start, duration + 11 * M)).toBeGreaterThanOrEqual(due);
      expect(businessTimeBetween(calendar, start, due)).toBe(duration);
    }
  });

  it.each([london, newYork])('$name: splitting a duration anywhere gives the same due time', (calendar) => {
    for (let i = 0; i < 40; i++) {
      const start = instants[i]!;
      const first = Math.floor(durations[i]! / 3);
      const rest = durations[i]! - first;
      expect(addBusinessTime(calendar, addBusinessTime(calendar, start, first), rest)).toBe(addBusinessTime(calendar, start, first + rest));
    }
  });
});
