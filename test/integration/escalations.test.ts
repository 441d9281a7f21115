import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import { adele, alex, cardAction, channelMessage, CHANNEL_ID, megan, personalConversationId, personalInstall, personalMessage, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { officePolicy } from '../support/policies.js';

const lee: Person = { id: '29:1lee-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000c3', name: 'Lee Gu' };
const ESCALATIONS = '19:escalations-room@thread.tacv2';

const policy = officePolicy(
  `
P1: { firstResponse: 30m, resolution: 2h }
P2: { firstResponse: 1h, resolution: 4h }
P3: { firstResponse: 2h, resolution: 8h }
P4: { firstResponse: 1bd, resolution: 5bd }
`,
  `warnings: []
escalation:
  default:
    - { notify: channel:triage, timeout: 30m }
    - { notify: "person:${lee.aadObjectId}", timeout: 30m }
`,
);

describe('escalations (endpoint, fake channel, fake clock)', () => {
  // A desk of its own for each test: sweeps look at every ticket, so timeouts and breaches must only
  // find this test's escalations.
  let h: Harness;
  const clock = testClock('2026-11-23T10:00:00Z');

  beforeEach(async () => {
    clock.reset();
    h = await startHarness({
      env: { AGENT_IDS: `${megan.aadObjectId},${lee.aadObjectId}`, ADMIN_IDS: adele.aadObjectId },
      service: { sla: policy, clock: clock.now, sweeper: { pollIntervalMs: 3_600_000 } },
    });
    for (const person of [alex, megan, lee]) {
      const install = personalInstall(h, 'add', person);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
      const hello = personalMessage(h, 'help', { from: person });
      await h.post(hello);
      await h.connector.waitFor((c) => c.activityId === hello.id);
    }
    for (const [command, channel] of [['setup triage', CHANNEL_ID], ['setup escalations', ESCALATIONS]] as const) {
      const setup = channelMessage(h, command, { from: adele, channel });
      await h.post(setup);
      await h.connector.waitFor((c) => c.activityId === setup.id);
    }
  });
  afterEach(async () => {
    // Every escalation card a test caused must be one Teams can render.
    const cards = h.connector.calls.filter((c) => c.status < 300 && String(c.activity.summary ?? '').startsWith('Escalation')).map(cardOf);
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
  const escalationCardIn = async (conversationId: string, id: number) =>
    (await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === conversationId && String(c.activity.summary ?? '').includes(`INC-${id}`) && String(c.activity.summary).startsWith('Escalation')))[0]!;
  const escalationOf = (ticketId: number) => db().selectFrom('escalations').selectAll().where('ticket_id', '=', ticketId).executeTakeFirstOrThrow();
  async function press(person: Person, verb: string, data: Record<string, unknown>) {
    const response = await h.post(cardAction(h, { verb, data, from: person }));
    expect(response.status).toBe(200);
    return response.body.value as Record<string, any>;
  }

  /** Megan escalates a new ticket by hand; returns it and the level-1 card in the triage channel. */
  async function escalated(subject: string): Promise<{ vpn: number; level1: ConnectorCall }> {
    const vpn = await newTicket(subject);
    expect(textOf(await say(megan, `escalate ${vpn} the whole sales floor is offline`))).toContain('level 1 of 2 has been asked');
    return { vpn, level1: await escalationCardIn(CHANNEL_ID, vpn) };
  }
  /** Megan declines level 1 (she is on another P1), which asks Lee at level 2. */
  async function declined(vpn: number) {
    const card = await press(megan, 'escalation.decline', { escalation: (await escalationOf(vpn)).id, reason: 'on another P1' });
    await escalationCardIn(personalConversationId(lee), vpn);
    return card;
  }

  it('escalates by hand to the first level, once', async () => {
    const { vpn, level1 } = await escalated('VPN down for the whole sales team');
    expect(level1.activity.summary).toBe(`Escalation: level 1 of 2, will you take it? · INC-${vpn}`);
    expect(cardOf(level1).actions.map((a: any) => a.title)).toEqual(['Accept', 'Decline', 'Open ticket']);
    expect(textOf(level1)).toContain('the whole sales floor is offline');
    expect(textOf(await say(megan, `escalate ${vpn}`))).toContain('already escalated');
    expect(textOf(await say(alex, `escalate ${vpn}`))).toMatch(/only support agents/i);
  });

  it('passes a declined escalation to the next level, and the first card says who declined and why', async () => {
    const { vpn, level1 } = await escalated('VPN down for the whole sales team');
    const card = await press(megan, 'escalation.decline', { escalation: (await escalationOf(vpn)).id, reason: 'on another P1' });
    expect(JSON.stringify(card)).toContain('level 2 of 2');
    expect(JSON.stringify(card)).toContain('Level 1: declined by Megan Bowen (on another P1)');
    await escalationCardIn(personalConversationId(lee), vpn);
    await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === level1.activityId && textOf(c).includes('declined by Megan Bowen'));
  });

  it('lets exactly one of two agents accept, assigns it to them, and every copy shows who', async () => {
    const { vpn, level1 } = await escalated('VPN down for the whole sales team');
    await declined(vpn);
    const id = (await escalationOf(vpn)).id;
    const [a, b] = await Promise.all([press(lee, 'escalation.accept', { escalation: id }), press(megan, 'escalation.accept', { escalation: id })]);
    const row = await escalationOf(vpn);
    expect(row.state).toBe('accepted');
    const winner = row.accepted_by === (await db().selectFrom('people').select('id').where('teams_id', '=', lee.id).executeTakeFirstOrThrow()).id ? 'Lee Gu' : 'Megan Bowen';
    for (const card of [a, b]) expect(JSON.stringify(card)).toContain(`Escalation accepted by ${winner}`);
    const ticket = await db().selectFrom('tickets').select('assignee_id').where('id', '=', vpn).executeTakeFirstOrThrow();
    expect(ticket.assignee_id).toBe(row.accepted_by);
    await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === level1.activityId && textOf(c).includes(`accepted by ${winner}`));
    const timeline = await db().selectFrom('timeline_entries').select('body').where('ticket_id', '=', vpn).where('kind', '=', 'escalation').execute();
    expect(timeline.map((t) => t.body)).toEqual([
      'Escalated by Megan Bowen: the whole sales floor is offline; asking level 1 of 2',
      'Escalation declined by Megan Bowen at level 1: on another P1',
      `Escalation accepted by ${winner} at level 2`,
    ]);
  });

  it('moves up a level when nobody answers in time, and alerts the escalations channel after the last', async () => {
    const printer = await newTicket('Printer queue stuck');
    await say(megan, `escalate ${printer}`);
    await escalationCardIn(CHANNEL_ID, printer);
    clock.set('2026-11-23T10:31:00Z');
    await h.service.sweeper.sweepOnce();
    await escalationCardIn(personalConversationId(lee), printer);
    clock.set('2026-11-23T11:02:00Z');
    await h.service.sweeper.sweepOnce();
    const alert = await escalationCardIn(ESCALATIONS, printer);
    expect(alert.activity.summary).toBe(`Escalation: nobody has accepted yet · INC-${printer}`);
    expect((await escalationOf(printer)).state).toBe('exhausted');
    // Someone can still take it from the alert.
    expect(JSON.stringify(await press(megan, 'escalation.accept', { escalation: (await escalationOf(printer)).id }))).toContain('Escalation accepted by Megan Bowen');
  });

  it('starts the chain by itself when an SLA is breached', async () => {
    clock.set('2026-11-23T13:00:00Z');
    const laptop = await newTicket('Laptop screen cracked');
    clock.set('2026-11-23T15:05:00Z'); // the two-hour first response (P3) has passed
    await h.service.sweeper.sweepOnce();
    const card = await escalationCardIn(CHANNEL_ID, laptop);
    expect(textOf(card)).toContain('SLA breached');
    expect((await escalationOf(laptop)).trigger).toBe('breach');
  });

  it('sends only escalation cards that validate against Adaptive Cards 1.5', async () => {
    // One of each: asked, declined and passed on, accepted (every copy updated), and nobody answering.
    const { vpn, level1 } = await escalated('VPN down for the whole sales team');
    await declined(vpn);
    await press(lee, 'escalation.accept', { escalation: (await escalationOf(vpn)).id });
    await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === level1.activityId && textOf(c).includes('accepted by Lee Gu'));
    const printer = await newTicket('Printer queue stuck');
    await say(megan, `escalate ${printer}`);
    clock.set('2026-11-23T10:31:00Z');
    await h.service.sweeper.sweepOnce();
    clock.set('2026-11-23T11:02:00Z');
    await h.service.sweeper.sweepOnce();
    await escalationCardIn(ESCALATIONS, printer);
    const cards = h.connector.calls.filter((c) => c.status < 300 && String(c.activity.summary ?? '').startsWith('Escalation')).map(cardOf);
    expect(cards.length).toBeGreaterThan(5);
    for (const card of cards) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });
});
