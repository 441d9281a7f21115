import { describe, expect, it } from 'vitest';
import { eventKey, sweepTicket, type SweepInput } from '../../src/domain/sla-sweep.js';
import { slaSummary, startClocks } from '../../src/domain/ticket-sla.js';
import { parseSlaPolicy } from '../../src/sla-config.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const parsed = parseSlaPolicy(
  `calendars:
  office: { timeZone: UTC, hours: { mon-fri: "09:00-17:00" } }
defaultCalendar: office
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 1h, resolution: 4h }
    P2: { firstResponse: 1h, resolution: 4h }
    P3: { firstResponse: 4h, resolution: 2bd }
    P4: { firstResponse: 1bd, resolution: 5bd }
warnings: [50%, 75%, 90%]
`,
  'test',
);
if (!parsed.ok) throw new Error(parsed.problems.join());
const policy = parsed.policy;
const ticket = { priority: 'P2' as const, tier: 'standard', teamId: null };
const created = at('2026-11-23T09:00:00Z'); // Monday 09:00

const input = (now: number, overrides: Partial<SweepInput> = {}): SweepInput => ({
  policy,
  ticket,
  clocks: startClocks(policy, ticket, created),
  now,
  fired: new Set(),
  snoozedUntil: {},
  ...overrides,
});

describe('SLA sweep decisions', () => {
  it('sends the first warning when its threshold passes, and asks to come back at the next one', () => {
    const decision = sweepTicket(input(at('2026-11-23T09:31:00Z')));
    expect(decision.events).toEqual([{ clock: 'first_response', kind: 'warning', threshold: '50%', cycle: 0, outcome: 'sent', remainingMs: 29 * 60_000 }]);
    // Next: 75% of the first-response hour (09:45).
    expect(decision.nextCheckAt).toBe(at('2026-11-23T09:45:00Z'));
  });

  it('after downtime sends only the latest passed warning, recording the others silently', () => {
    const decision = sweepTicket(input(at('2026-11-23T09:56:00Z')));
    const firstResponse = decision.events.filter((e) => e.clock === 'first_response');
    expect(firstResponse.map((e) => [e.threshold, e.outcome])).toEqual([
      ['50%', 'silent'],
      ['75%', 'silent'],
      ['90%', 'sent'],
    ]);
  });

  it('reports a breach that happened while down as a breach, never as a burst of stale warnings', () => {
    const decision = sweepTicket(input(at('2026-11-23T15:00:00Z')));
    const sent = decision.events.filter((e) => e.outcome === 'sent');
    expect(sent.map((e) => [e.clock, e.kind])).toEqual([
      ['first_response', 'breach'],
      ['resolution', 'breach'],
    ]);
    expect(decision.nextCheckAt).toBeNull();
  });

  it('fires each event once: what was recorded is not decided again', () => {
    const first = sweepTicket(input(at('2026-11-23T09:31:00Z')));
    const fired = new Set(first.events.map(eventKey));
    expect(sweepTicket(input(at('2026-11-23T09:40:00Z'), { fired })).events).toEqual([]);
  });

  it('records warnings that pass during a snooze without sending them, but still sends the breach', () => {
    const snoozedUntil = { first_response: at('2026-11-23T10:30:00Z') };
    expect(sweepTicket(input(at('2026-11-23T09:46:00Z'), { snoozedUntil })).events.filter((e) => e.clock === 'first_response').map((e) => e.outcome)).toEqual(['silent', 'snoozed']);
    const breach = sweepTicket(input(at('2026-11-23T10:01:00Z'), { snoozedUntil })).events.find((e) => e.kind === 'breach');
    expect(breach).toMatchObject({ clock: 'first_response', outcome: 'sent' });
  });

  it('does nothing for paused or stopped clocks, and carries the business-hours gap into the next check', () => {
    const clocks = startClocks(policy, ticket, created);
    const paused = { ...clocks, firstResponse: { ...clocks.firstResponse, stoppedAt: created + H }, resolution: { ...clocks.resolution, runningSince: null, usedMs: H } };
    expect(sweepTicket(input(at('2026-11-24T09:00:00Z'), { clocks: paused }))).toEqual({ events: [], nextCheckAt: null });
    // Resumed Friday 16:50 with 2 h of resolution left and the 50% warning behind it: the 75% warning
    // (1 h left) comes after 10 minutes on Friday and 50 on Monday.
    const friday = at('2026-11-27T16:50:00Z');
    const late = { firstResponse: { ...clocks.firstResponse, stoppedAt: friday }, resolution: { targetMs: 4 * H, usedMs: 2 * H, runningSince: friday, stoppedAt: null } };
    const decision = sweepTicket(input(at('2026-11-27T16:50:00Z'), { clocks: late, fired: new Set(['resolution:warning:50%:0']) }));
    expect(decision.nextCheckAt).toBe(at('2026-11-30T09:50:00Z'));
  });

  it('says a fresh breach happened "just now", not "0m ago"', () => {
    const clocks = startClocks(policy, ticket, created);
    const subject = { ...ticket, status: 'new' as const };
    expect(slaSummary(policy, subject, clocks, at('2026-11-23T10:00:20Z')).text).toBe('First response breached just now');
    expect(slaSummary(policy, subject, clocks, at('2026-11-23T10:05:00Z')).text).toBe('First response breached 5m ago');
  });
});
