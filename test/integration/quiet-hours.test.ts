import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alex, megan, type Person } from '../support/activities.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { aroundTheClockPolicy } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);
// Around the clock, so a warning can come at night; P3 warns at 50% and 75% of two hours.
const policy = aroundTheClockPolicy(
  `
P1: { firstResponse: 2h, resolution: 8h }
P2: { firstResponse: 2h, resolution: 8h }
P3: { firstResponse: 2h, resolution: 8h }
P4: { firstResponse: 2h, resolution: 8h }
`,
  'warnings: [50%, 75%]',
);

describe('quiet hours hold non-urgent warnings until the morning', () => {
  let h: Harness;
  const clock = testClock('2026-11-23T19:00:00Z'); // Monday evening; megan is in Europe/London (GMT)

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId }, service: { sla: policy, clock: clock.now, sweeper: { pollIntervalMs: 3_600_000 } } });
    await h.install(alex, megan);
  });
  afterAll(() => h.stop());
  beforeEach(() => clock.reset());

  const db = () => h.service.database.db;
  const say = (person: Person, text: string) => h.say(person, text);
  const warningsQueued = (ticketId: number) =>
    db().selectFrom('outbox').select(['status', 'hold_until', 'card_kind', 'last_error']).where('ticket_id', '=', ticketId).where('card_kind', 'like', 'sla-warning%').orderBy('id').execute();

  it('sets and shows quiet hours', async () => {
    expect(JSON.stringify((await say(megan, 'quiet 19:00-08:00')).activity.attachments[0].content)).toContain('Quiet hours set to 19:00-08:00 (Europe/London)');
    expect(JSON.stringify((await say(megan, 'quiet')).activity.attachments[0].content)).toContain('Your quiet hours are 19:00-08:00');
    expect(JSON.stringify((await say(alex, 'quiet 19:00-08:00')).activity.attachments[0].content)).toContain('Quiet hours are for agents');
  });

  it('records who set quiet hours, when, and from what to what, in the audit log', async () => {
    const audit = () => db().selectFrom('audit_log').select(['at', 'actor_id', 'ticket_id', 'surface', 'details']).where('action', '=', 'person.quiet-hours').orderBy('id').execute();
    const before = (await audit()).length;
    await say(megan, 'quiet off');
    await say(megan, 'quiet 20:00-07:00');
    // Alex is not an agent: refused, and leaves no trace.
    await say(alex, 'quiet 19:00-08:00');
    const rows = (await audit()).slice(before);
    const person = await db().selectFrom('people').select('id').where('teams_id', '=', megan.id).executeTakeFirstOrThrow();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ at: clock.now(), actor_id: person.id, ticket_id: null, surface: 'chat' });
    expect(JSON.parse(rows[1]!.details!)).toEqual({ from: null, to: { from: 20 * 60, until: 7 * 60 } });
  });

  it('holds a P3 warning until 08:00, replaces it with the next one, and lets a P1 warning through', async () => {
    expect(JSON.stringify((await say(megan, 'quiet 19:00-08:00')).activity.attachments[0].content)).toContain('Quiet hours set to 19:00-08:00 (Europe/London)');
    const p3 = (await openTicket(h, alex, 'Printer toner low')).id;
    await say(megan, `take ${p3}`);
    clock.set('2026-11-23T20:01:00Z'); // 50% of the first response
    await h.service.sweeper.sweepOnce();
    expect(await warningsQueued(p3)).toEqual([{ status: 'pending', hold_until: at('2026-11-24T08:00:00Z'), card_kind: 'sla-warning:first_response', last_error: null }]);
    clock.set('2026-11-23T20:31:00Z'); // 75%: the held 50% warning is replaced
    await h.service.sweeper.sweepOnce();
    expect((await warningsQueued(p3)).map((w) => [w.status, w.last_error])).toEqual([
      ['dead', 'superseded by a newer message'],
      ['pending', null],
    ]);

    clock.set('2026-11-23T21:00:00Z');
    const p1 = (await openTicket(h, alex, 'Payroll is down')).id;
    await say(megan, `priority ${p1} P1`);
    await say(megan, `take ${p1}`);
    clock.set('2026-11-23T22:01:00Z');
    await h.service.sweeper.sweepOnce();
    const urgent = await warningsQueued(p1);
    expect(urgent).toHaveLength(1);
    expect(urgent[0]!.hold_until).toBeNull();
    await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA warning · INC-${p1}`));
  });
});
