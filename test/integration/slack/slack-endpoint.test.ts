import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeskEvent, DeskEventType } from '../../../src/domain/desk-events.js';
import type { RolePolicy } from '../../../src/domain/roles.js';
import { SlackEndpoint } from '../../../src/http/slack.js';
import { SLACK_ACTIONS } from '../../../src/integrations/slack/actions.js';
import { SlackApi } from '../../../src/integrations/slack/client.js';
import { SlackTarget } from '../../../src/integrations/slack/target.js';
import type { Actor } from '../../../src/services/actors.js';
import { EscalationService } from '../../../src/services/escalations.js';
import { SlaService } from '../../../src/services/sla.js';
import { SlackInteractions } from '../../../src/services/slack-interactions.js';
import { SlackPeople } from '../../../src/services/slack-people.js';
import { TicketQueries } from '../../../src/services/ticket-queries.js';
import { TicketService } from '../../../src/services/tickets.js';
import type { Database } from '../../../src/store/database.js';
import { findPeople, upsertPerson } from '../../../src/store/people.js';
import { snoozesOf } from '../../../src/store/sla.js';
import { findTicket } from '../../../src/store/tickets.js';
import { engines } from '../../support/databases.js';
import { aroundTheClockPolicy } from '../../support/policies.js';
import { buttonPress, buttonsOf, FakeSlack, slackRequest, slashCommand, type FakeSlackMessage } from '../../fakes/slack.js';

const SECRET = 'slack-signing-secret-for-tests';
const CHANNEL = 'C0DESK0001';
const MEGAN_AAD = '00000000-0000-0000-0000-0000000000b2';
const LEE_AAD = '00000000-0000-0000-0000-0000000000c3';

const policy = aroundTheClockPolicy(
  `
P1: { firstResponse: 30m, resolution: 2h }
P2: { firstResponse: 1h, resolution: 4h }
P3: { firstResponse: 2h, resolution: 8h }
P4: { firstResponse: 8h, resolution: 40h }
`,
  `escalation:
  default:
    - { notify: channel:triage, timeout: 30m }
    - { notify: channel:triage, timeout: 30m }
`,
);
const roles: RolePolicy = { adminIds: [], agentIds: [MEGAN_AAD, LEE_AAD], allowedTenantIds: [] };

describe.each(engines)('Slack interactivity and /ticket on $name (signed requests, real WebClient, loopback Slack)', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let slack: FakeSlack;
  let endpoint: SlackEndpoint;
  let target: SlackTarget;
  let tickets: TicketService;
  let escalations: EscalationService;
  let people: { alex: Actor; megan: Actor; lee: Actor };
  const slackUsers = { alex: { id: 'U0ALEX' }, megan: { id: 'U0MEGAN' }, lee: { id: 'U0LEE' }, unverified: { id: 'U0UNVERIFIED' }, stranger: { id: 'U0STRANGER' } };

  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
    const db = database.db;
    const person = (n: string, name: string, email: string, aad: string | null, role: 'agent' | 'requester') =>
      upsertPerson(db, { teamsId: `29:${n}`, aadObjectId: aad, tenantId: 't', name, email }, role, 1);
    people = {
      alex: { person: await person('alex', 'Alex Wilber', 'alex@contoso.example', null, 'requester'), role: 'requester' },
      megan: { person: await person('megan', 'Megan Bowen', 'Megan@Contoso.example', MEGAN_AAD, 'agent'), role: 'agent' },
      lee: { person: await person('lee', 'Lee Gu', 'lee@contoso.example', LEE_AAD, 'agent'), role: 'agent' },
    };

    slack = await new FakeSlack().start();
    // Slack's clock moves on two seconds a call, so posts in one channel never trip its one-a-second limit here.
    let slackClock = Date.parse('2026-11-23T10:00:00Z');
    slack.now = () => (slackClock += 2_000);
    slack.addUser({ id: 'U0ALEX', name: 'Alex Wilber', email: 'alex@contoso.example' });
    slack.addUser({ id: 'U0MEGAN', name: 'Megan Bowen', email: 'megan@contoso.example' });
    slack.addUser({ id: 'U0LEE', name: 'Lee Gu', email: 'lee@contoso.example' });
    // Claims Megan's address, but Slack has not confirmed it is theirs.
    slack.addUser({ id: 'U0UNVERIFIED', name: 'Not Megan', email: 'megan@contoso.example', emailConfirmed: false });
    slack.addUser({ id: 'U0STRANGER', name: 'Sam Stranger', email: 'sam@elsewhere.example' });
    const api = new SlackApi({ token: slack.token, apiUrl: slack.apiUrl });
    target = new SlackTarget({ name: 'desk', channel: CHANNEL, client: api });

    tickets = new TicketService({ database, sla: policy });
    escalations = new EscalationService({ database, policy, tickets });
    const sla = new SlaService({ database, policy, escalations });
    // A generous lookup budget: a loaded test machine must not look like a slow Slack.
    const directory = new SlackPeople({ db, policy: roles, userInfo: (id, signal) => api.userInfo(id, signal), lookupTimeoutMs: 10_000 });
    const interactions = new SlackInteractions({
      db,
      tickets,
      sla,
      escalations,
      queries: new TicketQueries({ db }),
      actorOf: (p) => directory.actorOf(p),
      personOfSlackUser: async (id) => {
        const who = await directory.identify(id);
        return who.ok ? who.actor.person : undefined;
      },
    });
    endpoint = new SlackEndpoint({ signingSecret: SECRET, identify: (id) => directory.identify(id), interactions, responseUrlBase: slack.hooksBase });
  });
  afterEach(async () => {
    await endpoint.idle();
    await slack.stop();
    await cleanup();
  });

  const open = async (subject = 'VPN down for the sales floor') => {
    const created = await tickets.create({ actor: people.alex, surface: 'chat' }, { type: 'incident', subject, description: '', priority: 'P3', teamId: null, source: 'chat', postTo: [] });
    if (!created.ok) throw new Error(created.reason);
    return created.value;
  };
  const ticketRow = async (id: number) => (await findTicket(database.db, id))!;

  /** The desk event of `type` for the ticket as it now stands (what the lead's queue hands the target). */
  async function eventFor(type: DeskEventType, ticketId: number, data: Record<string, unknown> = {}): Promise<DeskEvent> {
    const t = await ticketRow(ticketId);
    const names = await findPeople(database.db, [t.requesterId, ...(t.assigneeId !== null ? [t.assigneeId] : [])]);
    const who = (id: number | null) => (id === null ? null : { name: names.get(id)!.name, email: names.get(id)!.email });
    return {
      id: `evt-${ticketId}-${type}-${t.version}`,
      type,
      version: 1,
      occurredAt: new Date().toISOString(),
      actor: null,
      data,
      ticket: { id: t.id, reference: t.reference, subject: t.subject, type: t.type, status: t.status, priority: t.priority, tier: t.tier, teamId: t.teamId, requester: who(t.requesterId), assignee: who(t.assigneeId), version: t.version, createdAt: new Date(t.createdAt).toISOString(), dueAt: t.slaDueAt === null ? null : new Date(t.slaDueAt).toISOString() },
    };
  }

  /** Posts the ticket's Slack message the way the delivery queue would. */
  async function posted(type: DeskEventType, ticketId: number, data: Record<string, unknown> = {}): Promise<FakeSlackMessage> {
    const result = await target.deliver(await eventFor(type, ticketId, data), { previous: undefined, matched: true, signal: new AbortController().signal });
    return slack.messages.find((m) => `${m.channel}:${m.ts}` === result.post!.externalId)!;
  }

  const button = (message: FakeSlackMessage, label: string) => {
    const found = buttonsOf(message).find((b) => b.text.text === label);
    if (!found) throw new Error(`no ${label} button on the message (has ${buttonsOf(message).map((b) => b.text.text).join(', ')})`);
    return found;
  };

  /** A press as Slack sends it, signed; returns the HTTP answer and what the presser was told. */
  async function press(user: { id: string }, message: FakeSlackMessage, pressed: { action_id: string; value: string }) {
    const before = slack.responses.length;
    const request = slackRequest(SECRET, buttonPress(user, message, pressed, `${slack.hooksBase}actions/T0CONTOSO/1/abc`), Date.now());
    const answer = await endpoint.handle('interactivity', request.body, request.headers);
    await endpoint.idle();
    const told = slack.responses.slice(before).map((r) => r.body);
    return { answer, told: told.map((b) => b.text as string), bodies: told };
  }

  async function command(user: { id: string }, text: string) {
    const request = slackRequest(SECRET, slashCommand(user, text), Date.now());
    const answer = await endpoint.handle('commands', request.body, request.headers);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    return (answer.body as { text: string }).text;
  }

  it('a Take pressed in Slack assigns the ticket in the database; the presser alone hears how it went', async () => {
    const ticket = await open();
    const message = await posted('ticket.created', ticket.id);
    const take = button(message, 'Take');

    const first = await press(slackUsers.megan, message, take);
    expect(first.answer).toEqual({ status: 200, body: '' });
    expect(first.told).toEqual([`You took ${ticket.reference}.`]);
    expect(first.bodies[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    const row = await ticketRow(ticket.id);
    expect(row.assigneeId).toBe(people.megan.person.id);
    expect(row.status).toBe('open');

    // The message itself is the queue's to refresh: the next event's update drops the Take button.
    await target.deliver(await eventFor('ticket.assigned', ticket.id), { previous: { externalId: `${message.channel}:${message.ts}` }, matched: false, signal: new AbortController().signal });
    expect(buttonsOf(message).map((b) => b.text.text)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('Megan Bowen');

    // Lee pressed the stale button a moment later.
    expect((await press(slackUsers.lee, message, take)).told).toEqual([`${ticket.reference} was already taken by Megan Bowen.`]);
  });

  it('a requester pressing Take is refused by the desk’s own rights check, and nothing changes', async () => {
    const ticket = await open();
    const message = await posted('ticket.created', ticket.id);
    const { answer, told } = await press(slackUsers.alex, message, button(message, 'Take'));
    expect(answer.status).toBe(200);
    expect(told).toEqual(['Only support agents can do that.']);
    expect((await ticketRow(ticket.id)).assigneeId).toBeNull();
  });

  it('Snooze on an SLA warning silences the clock’s warnings for the chosen time', async () => {
    const ticket = await open();
    const message = await posted('sla.warning', ticket.id, { clock: 'resolution', threshold: '75%', remainingMinutes: 90 });
    const pressedAt = Date.now();
    const { told } = await press(slackUsers.megan, message, button(message, 'Snooze 60 min'));
    expect(told[0]).toMatch(/^Warnings snoozed until \d\d:\d\d UTC\.$/);
    const snoozes = await snoozesOf(database.db, ticket.id);
    expect(snoozes.resolution?.byPersonId).toBe(people.megan.person.id);
    expect(snoozes.resolution!.until).toBeGreaterThanOrEqual(pressedAt + 60 * 60_000);
    expect(snoozes.resolution!.until).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
  });

  it('Decline passes an escalation on and Accept takes it, from the buttons of the escalation message', async () => {
    const ticket = await open();
    const started = await escalations.start(ticket.id, { trigger: 'manual', actor: people.megan, reason: 'whole floor offline' });
    if (!started.ok) throw new Error(started.reason);
    const message = await posted('escalation.raised', ticket.id, { escalationId: started.value.id, level: 1, levels: 2, target: 'channel:triage' });

    expect((await press(slackUsers.megan, message, button(message, 'Decline'))).told).toEqual(['Declined; level 2 has been asked.']);
    const declined = await database.db.selectFrom('escalations').selectAll().where('id', '=', started.value.id).executeTakeFirstOrThrow();
    expect(declined.level).toBe(1);

    expect((await press(slackUsers.lee, message, button(message, 'Accept'))).told).toEqual(['You accepted the escalation; the ticket is yours.']);
    const accepted = await database.db.selectFrom('escalations').selectAll().where('id', '=', started.value.id).executeTakeFirstOrThrow();
    expect(accepted.state).toBe('accepted');
    expect(accepted.accepted_by).toBe(people.lee.person.id);
    expect((await ticketRow(ticket.id)).assigneeId).toBe(people.lee.person.id);
    // A requester's Accept is refused by the escalation service's own check.
    expect((await press(slackUsers.alex, message, button(message, 'Accept'))).told[0]).toMatch(/^Only support agents/);
  });

  it('refuses tampered buttons: another ticket’s escalation, values the desk never made, unknown actions', async () => {
    const ticket = await open();
    const other = await open('Printer jammed');
    const started = await escalations.start(other.id, { trigger: 'manual', actor: people.megan, reason: null });
    if (!started.ok) throw new Error(started.reason);
    const message = await posted('ticket.created', ticket.id);

    const mixed = await press(slackUsers.megan, message, { action_id: SLACK_ACTIONS.accept, value: JSON.stringify({ ticketId: ticket.id, escalationId: started.value.id }) });
    expect(mixed.told).toEqual(['That button does not belong to this ticket; nothing was changed.']);
    expect((await database.db.selectFrom('escalations').select('state').where('id', '=', started.value.id).executeTakeFirstOrThrow()).state).toBe('open');

    for (const [pressed, problem] of [
      [{ action_id: SLACK_ACTIONS.take, value: '{"ticketId":"1 or 1=1"}' }, 'the button value is not one the desk made'],
      [{ action_id: SLACK_ACTIONS.take, value: JSON.stringify({ ticketId: ticket.id, assigneeId: people.megan.person.id }) }, 'the button value is not one the desk made'],
      [{ action_id: SLACK_ACTIONS.snooze, value: JSON.stringify({ ticketId: ticket.id, clock: 'resolution', minutes: 100_000 }) }, 'the button value is not one the desk made'],
      [{ action_id: SLACK_ACTIONS.take, value: 'not json' }, 'the button value is not JSON'],
      [{ action_id: 'desk.ticket.delete', value: JSON.stringify({ ticketId: ticket.id }) }, 'unknown action "desk.ticket.delete"'],
    ] as const) {
      const { answer, told } = await press(slackUsers.megan, message, pressed);
      expect(answer).toEqual({ status: 400, body: { error: problem } });
      expect(told).toEqual([]);
    }
    expect((await ticketRow(ticket.id)).assigneeId).toBeNull();

    // A response_url that is not Slack's hooks is never called, even in a signed payload.
    const elsewhere = slackRequest(SECRET, buttonPress(slackUsers.megan, message, button(message, 'Take'), `${slack.apiUrl}chat.delete`), Date.now());
    expect(await endpoint.handle('interactivity', elsewhere.body, elsewhere.headers)).toEqual({ status: 200, body: '' });
    await endpoint.idle();
    expect(slack.count('chat.delete')).toBe(0);
    expect((await ticketRow(ticket.id)).assigneeId).toBe(people.megan.person.id);
  });

  it('refuses forged and stale requests before reading them, with the reason', async () => {
    const ticket = await open();
    const message = await posted('ticket.created', ticket.id);
    const fields = buttonPress(slackUsers.megan, message, button(message, 'Take'));
    const forged = slackRequest('not-our-secret', fields, Date.now());
    expect(await endpoint.handle('interactivity', forged.body, forged.headers)).toEqual({ status: 401, body: { error: 'bad signature' } });
    const stale = slackRequest(SECRET, fields, Date.now() - 6 * 60_000);
    expect(await endpoint.handle('interactivity', stale.body, stale.headers)).toMatchObject({ status: 401, body: { error: expect.stringMatching(/^stale request/) } });
    const unsigned = slackRequest(SECRET, slashCommand(slackUsers.megan, `take ${ticket.reference}`), Date.now());
    expect(await endpoint.handle('commands', unsigned.body, { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({ status: 401, body: { error: expect.stringContaining('missing header') } });
    // A signed body changed on the way: the signature no longer covers it.
    const good = slackRequest(SECRET, slashCommand(slackUsers.alex, `show ${ticket.reference}`), Date.now());
    expect(await endpoint.handle('commands', good.body.replace('U0ALEX', 'U0MEGAN'), good.headers)).toEqual({ status: 401, body: { error: 'bad signature' } });
    expect((await ticketRow(ticket.id)).assigneeId).toBeNull();
  });

  it('maps a Slack user to the desk person with the same verified email, and refuses the unverified and the unknown in words', async () => {
    const ticket = await open();
    expect(await command(slackUsers.megan, `take ${ticket.reference}`)).toBe(`You took ${ticket.reference}.`);
    expect(await command(slackUsers.unverified, `show ${ticket.reference}`)).toBe('Your Slack email address (megan@contoso.example) is not verified, so the desk cannot be sure it is yours. Confirm it in Slack, then try again.');
    expect(await command(slackUsers.stranger, 'create Need a laptop')).toMatch(/^No service desk account uses sam@elsewhere\.example\. Ask a desk admin to add you/);
    // Unknown to Slack too.
    expect(await command({ id: 'U0NOBODY' }, 'help')).toBe(await command(slackUsers.alex, 'help'));
    expect(await command({ id: 'U0NOBODY' }, `show ${ticket.reference}`)).toMatch(/^Slack did not tell the desk who you are/);
    // A button press by a stranger is refused the same way, through response_url.
    const message = await posted('ticket.created', (await open('Another')).id);
    expect((await press(slackUsers.stranger, message, button(message, 'Take'))).told[0]).toMatch(/^No service desk account uses sam@elsewhere\.example/);
    // Lookups are remembered: Megan's second command asks Slack nothing.
    const asked = slack.count('users.info');
    await command(slackUsers.megan, `show ${ticket.reference}`);
    expect(slack.count('users.info')).toBe(asked);
  });

  it('runs each /ticket subcommand through the desk’s services, and answers junk with the usage line', async () => {
    const created = await command(slackUsers.alex, 'create Laptop will not boot after the update');
    const reference = /((?:INC|REQ)-\d+)/.exec(created)?.[1];
    expect(created).toContain(reference);
    const row = await database.db.selectFrom('tickets').selectAll().where('reference', '=', reference!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ subject: 'Laptop will not boot after the update', requester_id: people.alex.person.id, source: 'api' });

    const shown = await command(slackUsers.alex, `show ${reference}`);
    expect(shown).toContain(`*${reference}* · Laptop will not boot after the update`);
    expect(shown).toContain('Assignee: Unassigned · Requester: Alex Wilber');
    // A requester sees only their own tickets.
    const others = await (async () => {
      const t = await tickets.create({ actor: people.megan, surface: 'chat' }, { type: 'incident', subject: 'Secret', description: '', priority: 'P3', teamId: null, source: 'chat', postTo: [] });
      return t.ok ? t.value : undefined;
    })();
    expect(await command(slackUsers.alex, `show ${others!.reference}`)).toBe(`You have no ticket #${others!.id}.`);

    expect(await command(slackUsers.alex, `take ${reference}`)).toBe('Only support agents can do that.');
    expect(await command(slackUsers.megan, `assign ${reference} lee@contoso.example`)).toBe(`${reference} is now assigned to Lee Gu.`);
    expect(await command(slackUsers.megan, `assign ${reference} to megan`)).toBe(`${reference} is now assigned to Megan Bowen.`);
    expect(await command(slackUsers.megan, `assign ${reference} <@U0LEE|lee>`)).toBe(`${reference} is now assigned to Lee Gu.`);
    // Slack links addresses in command text when the command escapes them.
    expect(await command(slackUsers.megan, `assign ${reference} <mailto:megan@contoso.example|megan@contoso.example>`)).toBe(`${reference} is now assigned to Megan Bowen.`);
    expect(await command(slackUsers.megan, `assign ${reference} <@U0LEE>`)).toBe(`${reference} is now assigned to Lee Gu.`);
    expect(await command(slackUsers.megan, `assign ${reference} alex@contoso.example`)).toBe("Alex Wilber is not a support agent, so tickets can't be assigned to them.");
    expect((await ticketRow(row.id)).assigneeId).toBe(people.lee.person.id);

    expect(await command(slackUsers.megan, `status ${reference} pending waiting for the customer`)).toBe(`${reference} is pending customer.`);
    expect(await command(slackUsers.megan, `status ${reference} on hold`)).toBe(`${reference} is on hold.`);
    expect(await command(slackUsers.megan, `status ${reference} resolved`)).toBe(`${reference} is resolved.`);
    expect((await ticketRow(row.id)).status).toBe('resolved');
    expect(await command(slackUsers.megan, `status ${reference} sideways`)).toMatch(/^Give the new status: open, pending, on hold, resolved or closed/);

    expect(await command(slackUsers.megan, 'help')).toMatch(/^Usage: `\/ticket create <subject>`/);
    expect(await command(slackUsers.megan, '')).toMatch(/^Usage:/);
    expect(await command(slackUsers.megan, 'frobnicate INC-1')).toMatch(/^I don't know "frobnicate"\. Usage:/);
    expect(await command(slackUsers.megan, 'take')).toMatch(/^Say which ticket/);
    expect(await command(slackUsers.megan, 'create')).toMatch(/^Give the ticket a subject/);
  });

  it('answers a form that is not Slack’s with 400 naming the problem', async () => {
    const noPayload = slackRequest(SECRET, { nothing: 'here' }, Date.now());
    expect(await endpoint.handle('interactivity', noPayload.body, noPayload.headers)).toEqual({ status: 400, body: { error: 'the form has no "payload" field' } });
    const notJson = slackRequest(SECRET, { payload: '{' }, Date.now());
    expect(await endpoint.handle('interactivity', notJson.body, notJson.headers)).toEqual({ status: 400, body: { error: '"payload" is not JSON' } });
    const modal = slackRequest(SECRET, { payload: JSON.stringify({ type: 'view_submission', user: { id: 'U0MEGAN' } }) }, Date.now());
    expect(await endpoint.handle('interactivity', modal.body, modal.headers)).toMatchObject({ status: 400, body: { error: expect.stringContaining('only buttons') } });
    const sslCheck = slackRequest(SECRET, { ssl_check: '1', token: 'deprecated-verification-token' }, Date.now());
    expect(await endpoint.handle('commands', sslCheck.body, sslCheck.headers)).toEqual({ status: 200, body: '' });
    const { user_id: _dropped, ...noUser } = slashCommand(slackUsers.megan, 'help');
    const missing = slackRequest(SECRET, noUser, Date.now());
    expect(await endpoint.handle('commands', missing.body, missing.headers)).toMatchObject({ status: 400, body: { error: expect.stringContaining('user_id') } });
  });

  it('works over real HTTP: the raw form body as sent is what the signature covers', async () => {
    const ticket = await open();
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void endpoint.handle('commands', Buffer.concat(chunks).toString('utf8'), req.headers).then((answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer.body));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { body, headers } = slackRequest(SECRET, slashCommand(slackUsers.megan, `take ${ticket.reference}`), Date.now());
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/commands`, { method: 'POST', headers, body });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ response_type: 'ephemeral', text: `You took ${ticket.reference}.` });
      expect((await ticketRow(ticket.id)).assigneeId).toBe(people.megan.person.id);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
