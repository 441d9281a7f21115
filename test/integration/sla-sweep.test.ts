import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimSlaChecks } from '../../src/store/sla.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { adele, alex, cardAction, channelMessage, CHANNEL_ID, megan, personalConversationId, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { officePolicy } from '../support/policies.js';

const at = (iso: string) => Date.parse(iso);

/** Office hours Mon–Fri 09:00–17:00 UTC; P3: first response 1 h, resolution 4 h; one warning at 75%. */
const policy = officePolicy(
  `
P1: { firstResponse: 30m, resolution: 2h }
P2: { firstResponse: 1h, resolution: 4h }
P3: { firstResponse: 1h, resolution: 4h }
P4: { firstResponse: 1bd, resolution: 5bd }
`,
  `warnings: [75%]
`,
);

describe('SLA warnings and breaches as cards (sweep with a fake clock, fake channel)', () => {
  // A desk of its own for each test: the sweeper looks at every ticket there is, so what a sweep finds
  // and sends must not depend on the tickets and times other tests left behind.
  let h: Harness;
  const clock = testClock('2026-11-23T10:00:00Z'); // a Monday
  const setNow = (iso: string) => clock.set(iso);

  beforeEach(async () => {
    clock.reset();
    h = await startHarness({
      env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId },
      // The sweeper is driven by hand here, one sweep at a time.
      service: { sla: policy, clock: clock.now, sweeper: { pollIntervalMs: 3_600_000 } },
    });
    await h.install(alex, megan);
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
  });
  afterEach(async () => {
    // Every SLA card a test caused must be one Teams can render.
    const cards = h.connector.calls.filter((c) => c.status < 300 && String(c.activity.summary ?? '').startsWith('SLA')).map(cardOf);
    await h.stop();
    for (const card of cards) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });

  const db = () => h.service.database.db;
  const cardOf = (c: ConnectorCall) => c.activity.attachments?.[0]?.content;
  const textOf = (c: ConnectorCall | undefined) => JSON.stringify(cardOf(c!) ?? c!.activity.text);
  const say = (person: Person, text: string) => h.say(person, text);
  const newTicket = async (subject: string) => (await openTicket(h, alex, subject)).id;
  const slaCards = (id: number, kind: 'warning' | 'breach') =>
    h.connector.calls.filter((c) => c.status < 300 && c.operation === 'send' && String(c.activity.summary ?? '').startsWith(kind === 'warning' ? 'SLA warning' : 'SLA breached') && String(c.activity.summary).includes(`INC-${id} `));
  const events = (id: number) => db().selectFrom('sla_events').select(['clock', 'kind', 'threshold', 'outcome']).where('ticket_id', '=', id).orderBy('id').execute();

  /** A P3 opened Monday 10:00 and warned about (75% of its one-hour first response) at 10:46. */
  async function warnedTicket(subject: string): Promise<{ id: number; warning: ConnectorCall }> {
    const id = await newTicket(subject);
    setNow('2026-11-23T10:46:00Z');
    await h.service.sweeper.sweepOnce();
    const [warning] = await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && String(c.activity.summary ?? '').startsWith(`SLA warning · INC-${id}`));
    return { id, warning: warning! };
  }
  /** Megan snoozes the first-response warning from the card in the channel. */
  const snooze = (printer: number, warning: ConnectorCall, minutes: number, from: Person = megan) =>
    h.post(cardAction(h, { verb: 'sla.snooze', data: { ticket: printer, clock: 'first_response', minutes }, from, inChannel: true, replyToId: warning.activityId! }));

  it('warns the triage channel before the first response is due while nobody has the ticket, once', async () => {
    const printer = await newTicket('Printer on floor 2 is down');
    setNow('2026-11-23T10:30:00Z');
    expect(await h.service.sweeper.sweepOnce()).toBe(0);
    setNow('2026-11-23T10:46:00Z');
    expect(await h.service.sweeper.sweepOnce()).toBe(1);
    const warning = (await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && String(c.activity.summary ?? '').startsWith(`SLA warning · INC-${printer}`)))[0]!;
    expect(warning!.activity.summary).toBe(`SLA warning · INC-${printer} · First response 14m left`);
    const actions = cardOf(warning!).actions.map((a: any) => a.title);
    expect(actions).toEqual(['Open', 'Take', 'Snooze 30 min', 'Snooze 1 h', 'Snooze…']);
    // A second sweep at the same moment finds nothing to do, and nothing new is sent.
    await h.service.sweeper.sweepOnce();
    expect(await events(printer)).toEqual([{ clock: 'first_response', kind: 'warning', threshold: '75%', outcome: 'sent' }]);
    expect(slaCards(printer, 'warning')).toHaveLength(1);
    const timeline = await db().selectFrom('timeline_entries').select(['kind', 'body']).where('ticket_id', '=', printer).where('kind', '=', 'sla').execute();
    expect(timeline).toEqual([{ kind: 'sla', body: 'SLA first response warning (75%): 14m left' }]);
  });

  it('snoozes from the card, never past the breach, and the card says who until when', async () => {
    const { id: printer, warning } = await warnedTicket('Printer on floor 2 is down');
    const response = await snooze(printer, warning, 60);
    expect(response.status).toBe(200);
    const card = JSON.stringify(response.body.value);
    expect(card).toContain('Snoozed by Megan Bowen until ');
    // Due at 11:00: a one-hour snooze stops there.
    expect(card).toContain('{{TIME(2026-11-23T11:00:00Z)}}');
    const [update] = await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === warning.activityId && textOf(c).includes('Snoozed by Megan Bowen'));
    expect(update).toBeDefined();
    expect(await db().selectFrom('sla_snoozes').select(['until']).where('ticket_id', '=', printer).executeTakeFirst()).toEqual({ until: at('2026-11-23T11:00:00Z') });
    const refused = await h.post(cardAction(h, { verb: 'sla.snooze', data: { ticket: printer, clock: 'first_response', minutes: 30 }, from: alex }));
    expect(JSON.stringify(refused.body.value)).toMatch(/only support agents/i);
  });

  it('reports the breach to the assignee and the channel even while snoozed', async () => {
    const { id: printer, warning } = await warnedTicket('Printer on floor 2 is down');
    expect(JSON.stringify((await snooze(printer, warning, 60)).body.value)).toContain('Snoozed by Megan Bowen until ');
    await say(megan, `take ${printer}`);
    setNow('2026-11-23T11:01:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${printer}`), { count: 2 });
    const breaches = slaCards(printer, 'breach');
    expect(breaches.map((c) => c.conversationId).sort()).toEqual([CHANNEL_ID, personalConversationId(megan)].sort());
    expect(breaches[0]!.activity.summary).toBe(`SLA breached · INC-${printer} · First response breached 1m ago`);
  });

  it('after downtime reports breaches as breaches, and stale warnings not at all', async () => {
    setNow('2026-11-23T10:00:00Z');
    const laptop = await newTicket('Laptop will not boot');
    setNow('2026-11-24T10:00:00Z'); // Tuesday: first response and resolution both long breached
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${laptop}`), { count: 2 });
    expect(await events(laptop)).toEqual([
      { clock: 'first_response', kind: 'warning', threshold: '75%', outcome: 'silent' },
      { clock: 'first_response', kind: 'breach', threshold: 'breach', outcome: 'sent' },
      { clock: 'resolution', kind: 'warning', threshold: '75%', outcome: 'silent' },
      { clock: 'resolution', kind: 'breach', threshold: 'breach', outcome: 'sent' },
    ]);
    expect(slaCards(laptop, 'warning')).toHaveLength(0);
  });

  it('takes over tickets a dead sweeper had claimed once its lease runs out', async () => {
    setNow('2026-11-24T10:00:00Z');
    const monitor = await newTicket('Monitor flickers');
    setNow('2026-11-24T10:46:00Z');
    // Another replica claimed the ticket and died: the lease (next check pushed ahead) must run out first.
    expect(await claimSlaChecks(db(), 'sqlite', { now: clock.now(), limit: 10, leaseMs: 5 * 60_000 })).toContain(monitor);
    expect(await h.service.sweeper.sweepOnce()).toBe(0);
    setNow('2026-11-24T10:52:00Z');
    expect(await h.service.sweeper.sweepOnce()).toBe(1);
    expect((await events(monitor)).map((e) => e.outcome)).toEqual(['sent']);
  });

  it('delivers through a connector answering 429 (after Retry-After) and 403 (the chat is marked unreachable)', async () => {
    setNow('2026-11-25T10:00:00Z'); // Wednesday
    const scanner = await newTicket('Scanner offline');
    await say(megan, `take ${scanner}`);
    h.connector.fail(1, { status: 403, body: { error: { code: 'MessageWritesBlocked', message: 'blocked' } } }, (c) => c.conversationId === personalConversationId(megan));
    h.connector.fail(1, { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'ThrottledRequest' } } }, (c) => c.conversationId === CHANNEL_ID);
    setNow('2026-11-25T11:01:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => c.conversationId === CHANNEL_ID && String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${scanner}`), { timeoutMs: 8_000 });
    const throttled = h.connector.calls.find((c) => c.status === 429 && c.conversationId === CHANNEL_ID)!;
    const delivered = h.connector.calls.find((c) => c.status < 300 && c.conversationId === CHANNEL_ID && String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${scanner}`))!;
    expect(delivered.at - throttled.at).toBeGreaterThanOrEqual(950);
    await expect
      .poll(async () => (await db().selectFrom('conversation_references').select('stale_reason').where('conversation_id', '=', personalConversationId(megan)).executeTakeFirstOrThrow()).stale_reason)
      .toMatch(/403/);
    // The channel already had the breach card: the fallback for megan's blocked chat does not post it twice.
    expect(h.connector.calls.filter((c) => c.status < 300 && c.conversationId === CHANNEL_ID && String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${scanner}`))).toHaveLength(1);
  });

  it("falls back to the ticket's channel when the assignee's chat refuses a warning (403)", async () => {
    setNow('2026-11-27T10:00:00Z'); // Friday
    const projector = await newTicket('Projector in room 4 dead');
    await say(megan, `take ${projector}`);
    h.connector.fail(1, { status: 403, body: { error: { code: 'MessageWritesBlocked' } } }, (c) => c.conversationId === personalConversationId(megan));
    const refused = h.connector.waitForArrival((c) => c.status === 403 && c.conversationId === personalConversationId(megan), 10_000);
    setNow('2026-11-27T10:46:00Z');
    await h.service.sweeper.sweepOnce();
    await refused;
    // What is asked of the fallback is that the warning is queued for the channel; the queue says so
    // without waiting on the channel's rate limit (Teams allows 60 per 30 s).
    const channelRef = (await db().selectFrom('conversation_references').select('id').where('conversation_id', '=', CHANNEL_ID).executeTakeFirstOrThrow()).id;
    await expect
      .poll(() => db().selectFrom('outbox').select(['card_kind']).where('ticket_id', '=', projector).where('conversation_ref_id', '=', channelRef).where('card_kind', 'like', 'sla-warning%').execute(), { timeout: 5_000 })
      .toEqual([{ card_kind: 'sla-warning:first_response' }]);
  });

  it("warns an unassigned ticket's own channel when it was opened in one", async () => {
    setNow('2026-11-26T10:00:00Z'); // Thursday
    const ops = '19:ops-team-channel@thread.tacv2';
    const backups = (await openTicket(h, megan, 'Backups failed overnight', { channel: ops })).id;
    // The ticket's card has to be in its channel (and on record) before the channel is its home.
    await expect.poll(() => db().selectFrom('card_posts').select('id').where('ticket_id', '=', backups).execute()).toHaveLength(1);
    setNow('2026-11-26T10:46:00Z');
    await h.service.sweeper.sweepOnce();
    const [warned] = await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA warning · INC-${backups}`));
    expect(warned!.conversationId).toBe(ops);
  });

  it('sends only SLA cards that validate against Adaptive Cards 1.5', async () => {
    // A warning, its snoozed update, and the breach to the assignee and the channel.
    const { id, warning } = await warnedTicket('Printer on floor 2 is down');
    await snooze(id, warning, 30);
    await say(megan, `take ${id}`);
    setNow('2026-11-23T11:01:00Z');
    await h.service.sweeper.sweepOnce();
    await h.connector.waitFor((c) => String(c.activity.summary ?? '').startsWith(`SLA breached · INC-${id}`), { count: 2 });
    await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === warning.activityId);
    const cards = h.connector.calls.filter((c) => c.status < 300 && String(c.activity.summary ?? '').startsWith('SLA')).map(cardOf);
    expect(cards.length).toBeGreaterThanOrEqual(4);
    for (const card of cards) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });
});
