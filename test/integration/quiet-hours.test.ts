import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alex, megan, type Person } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';
import { policyFrom } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);
// Around the clock, so a warning can come at night; P3 warns at 50% and 75% of two hours.
const policy = policyFrom(`calendars:
  always: { timeZone: UTC, hours: 24x7 }
defaultCalendar: always
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 2h, resolution: 8h }
    P2: { firstResponse: 2h, resolution: 8h }
    P3: { firstResponse: 2h, resolution: 8h }
    P4: { firstResponse: 2h, resolution: 8h }
warnings: [50%, 75%]
`);

describe('quiet hours hold non-urgent warnings until the morning', () => {
  let h: Harness;
  let now = at('2026-11-23T19:00:00Z'); // Monday evening; megan is in Europe/London (GMT)

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId }, service: { sla: policy, clock: () => now, sweeper: { pollIntervalMs: 3_600_000 } } });
    await h.install(alex, megan);
  });
  afterAll(() => h.stop());

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
    const person = await db().selectFrom('people').select('id').where('teams_id', '=', megan.id).executeTakeFirstOrThrow();
    const audit = await db().selectFrom('audit_log').select(['at', 'actor_id', 'ticket_id', 'surface', 'details']).where('action', '=', 'person.quiet-hours').orderBy('id').execute();
    // Megan's one change; Alex (not an agent) was refused and left no trace.
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ at: now, actor_id: person.id, ticket_id: null, surface: 'chat' });
    expect(JSON.parse(audit[0]!.details!)).toEqual({ from: null, to: { from: 19 * 60, until: 8 * 60 } });
  });

  it('holds a P3 warning until 08:00, replaces it with the next one, and lets a P1 warning through', async () => {
    await say(alex, 'new Printer toner low');
    const p3 = (await db().selectFrom('tickets').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    await say(megan, `take ${p3}`);
    now = at('2026-11-23T20:01:00Z'); // 50% of the first response
    await h.service.sweeper.sweepOnce();
    expect(await warningsQueued(p3)).toEqual([{ status: 'pending', hold_until: at('2026-11-24T08:00:00Z'), card_kind: 'sla-warning:first_response', last_error: null }]);
    now = at('2026-11-23T20:31:00Z'); // 75%: the held 50% warning is replaced
    await h.service.sweeper.sweepOnce();
    expect((await warningsQueued(p3)).map((w) => [w.status, w.last_error])).toEqual([
      ['dead', 'superseded by a newer message'],
      ['pending', null],
    ]);

    now = at('2026-11-23T21:00:00Z');
    await say(alex, 'new Payroll is down');
    const p1 = (await db().selectFrom('tickets').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    await say(megan, `priority ${p1} P1`);
    await say(megan, `take ${p1}`);
    now = at('2026-11-23T22:01:00Z');
    await h.service.sweeper.sweepOnce();
    const urgent = await warningsQueued(p1);
    expect(urgent).toHaveLength(1);
    expect(urgent[0]!.hold_until).toBeNull();
    await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA warning · INC-${p1}`));
  });
});
