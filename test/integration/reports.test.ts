import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adele, alex, megan, type Person } from '../support/activities.js';
import { chartsIn, objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { policyFrom } from '../support/policies.js';

const policy = policyFrom(`calendars:
  office: { timeZone: UTC, hours: { mon-fri: "09:00-17:00" } }
defaultCalendar: office
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 30m, resolution: 2h }
    P2: { firstResponse: 1h, resolution: 4h }
    P3: { firstResponse: 4h, resolution: 2bd }
    P4: { firstResponse: 1bd, resolution: 5bd }
  vip:
    P1: { firstResponse: 15m, resolution: 1h }
    P2: { firstResponse: 30m, resolution: 2h }
    P3: { firstResponse: 2h, resolution: 1bd }
    P4: { firstResponse: 4h, resolution: 2bd }
warnings: []
escalation: { default: [] }
`);

type Card = { body: unknown[]; fallbackText: string };

describe('the SLA report', () => {
  // Reports count every ticket on the desk, so each test gets a desk of its own with the same morning
  // on it, and its own clock.
  let h: Harness;
  const clock = testClock('2026-11-23T10:00:00Z'); // a Monday
  let ids: Record<string, number>;

  const open = async (person: Person, subject: string) => (await openTicket(h, person, subject)).id;
  const report = async (person: Person, text = 'report') => {
    const call = await h.say(person, text);
    return call.activity.attachments?.[0]?.content as Card;
  };
  /** The figures a chart plots, as { legend: { x: y } }. */
  const plotted = (card: Card, title: RegExp) => {
    const chart = chartsIn(card).find((c) => title.test(c.title ?? ''));
    if (!chart) throw new Error(`no chart titled ${title}`);
    return Object.fromEntries(chart.data.map((s) => [s.legend, Object.fromEntries(s.values.map((v) => [v.x, v.y]))]));
  };

  beforeEach(async () => {
    clock.reset();
    ids = {};
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId }, service: { sla: policy, clock: clock.now, sweeper: { pollIntervalMs: 3_600_000 } } });
    await h.install(alex, megan);

    ids.met = await open(alex, 'Printer jams');
    await h.say(megan, `priority ${ids.met} P2`);
    await h.say(megan, `take ${ids.met}`);
    ids.breached = await open(alex, 'VPN drops');
    await h.say(megan, `priority ${ids.breached} P2`);
    ids.running = await open(alex, 'Monitor flickers'); // P3, nobody on it, inside its targets
    ids.vip = await open(alex, 'Payroll export fails');
    await h.say(megan, `tier ${ids.vip} vip`);
    await h.say(megan, `priority ${ids.vip} P1`);
    await h.say(megan, `take ${ids.vip}`);

    clock.set('2026-11-23T10:20:00Z');
    await h.say(megan, `resolve ${ids.met} reseated the drum`);
    await h.say(megan, `resolve ${ids.vip} re-ran the export`);
    clock.set('2026-11-23T11:05:00Z');
    await h.service.sweeper.sweepOnce(); // the VPN ticket misses its one-hour first response
  });
  afterEach(() => h.stop());

  it('shows agents SLA met by priority and by tier, as charts with tables to fall back on', async () => {
    const card = await report(megan);
    expect(card.fallbackText).toBe('SLA report for the team: 67% met in the last 7 days');
    // P2: one met, one breached; P1 (vip) met; P3 and P4 have nothing decided, so no bar at all.
    expect(plotted(card, /priority/)).toEqual({ 'Last 7 days': { P1: 100, P2: 50 }, 'Last 30 days': { P1: 100, P2: 50 } });
    expect(plotted(card, /tier/)).toEqual({ 'Last 7 days': { standard: 50, vip: 100 }, 'Last 30 days': { standard: 50, vip: 100 } });
    // Clients without charts get the same figures as tables.
    const text = JSON.stringify(card);
    expect(text).toContain('50% (1 of 2)');
    expect(text).toContain('100% (1 of 1)');
    expect(schemaErrors(card)).toEqual([]);
    expect(objectModelErrors(card)).toEqual([]);
  });

  it('plots the open tickets at the end of each of the last 14 days', async () => {
    const trend = plotted(await report(megan), /Open tickets/)['Open tickets']!;
    expect(Object.keys(trend)).toHaveLength(14);
    expect(Object.entries(trend).slice(-2)).toEqual([['22 Nov', 0], ['23 Nov', 2]]);
  });

  it('keeps a late resolution a breach, and moves the windows with the clock', async () => {
    clock.set('2026-12-03T10:00:00Z'); // ten days on
    await h.say(megan, `resolve ${ids.breached} replaced the router`);
    const card = await report(megan);
    // Only the VPN ticket was decided in the last 7 days, and it had breached: 0%. P1 has no bar for
    // the week (nothing decided), and its table cell says so.
    expect(plotted(card, /priority/)).toEqual({ 'Last 7 days': { P2: 0 }, 'Last 30 days': { P1: 100, P2: 50 } });
    expect(JSON.stringify(card)).toContain('0% (0 of 1)');
    expect(card.fallbackText).toBe('SLA report for the team: 0% met in the last 7 days');
    const trend = Object.entries(plotted(card, /Open tickets/)['Open tickets']!);
    expect(trend.at(-1)).toEqual(['3 Dec', 1]);
    expect(trend.find(([day]) => day === '2 Dec')).toEqual(['2 Dec', 2]);
  });

  it('narrows to the agent’s own tickets with “report mine”, and is for agents only', async () => {
    const mine = await report(megan, 'report mine');
    expect(mine.fallbackText).toMatch(/^SLA report for your tickets: /);
    // Megan took the printer and payroll tickets; the VPN ticket was never hers.
    expect(plotted(mine, /priority/)['Last 30 days']).toEqual({ P1: 100, P2: 100 });

    const refused = await h.say(alex, 'report');
    expect(JSON.stringify(refused.activity)).toContain('Reports are for support agents.');
  });
});
