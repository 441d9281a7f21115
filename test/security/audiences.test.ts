import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERBS, type Verb } from '../../src/cards/actions.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { adele, alex, cardAction, channelMessage, invoke, megan, personalMessage, somebody, TENANT_ID, type Person } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';
import { aroundTheClockPolicy } from '../support/policies.js';

/**
 * Who sees what, walked through the real endpoint: agent-only content (internal notes, agent actions,
 * other people's tickets, escalation details) never reaches a conversation where someone who is not an
 * agent reads along, however the card gets there; and a refused action tells nothing of the ticket.
 */

// Around the clock, with an escalation chain, so escalation cards exist to be replayed.
const policy = aroundTheClockPolicy(
  `
P1: { firstResponse: 1h, resolution: 4h }
P2: { firstResponse: 2h, resolution: 8h }
P3: { firstResponse: 4h, resolution: 2bd }
P4: { firstResponse: 1bd, resolution: 5bd }
`,
  `warnings: []
escalation:
  default:
    - { notify: "person:${megan.aadObjectId}", timeout: 30m }
`,
);

const NOTE = 'customer still on firmware 1.2, do not promise a date';
const OTHER_CHANNEL = '19:marketing-chatter-77aa@thread.tacv2';
const OTHER_TEAM = '19:team-marketing-88bb@thread.tacv2';

describe('audiences and refusals (HTTP, auth on, fake channel)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId }, service: { sla: policy } });
    await h.install(alex, megan, adele);
  });
  afterAll(() => h.stop());

  const cardOf = (call: ConnectorCall) => call.activity.attachments?.[0]?.content;
  const json = (call: ConnectorCall) => JSON.stringify(cardOf(call) ?? call.activity.text);
  /** A group chat with its own id, so each test reads only its own traffic. */
  const newGroupChat = () => `19:group-${randomUUID()}@thread.v2`;

  function groupMessage(chatId: string, from: Person, text: string) {
    const activity = personalMessage(h, `<at>Service Desk</at> ${text}`, { from });
    return {
      ...activity,
      conversation: { isGroup: true, conversationType: 'groupChat', tenantId: TENANT_ID, id: chatId },
      entities: [{ type: 'mention', text: '<at>Service Desk</at>', mentioned: { id: `28:${h.botAppId}`, name: 'Service Desk' } }],
    };
  }

  async function post(activity: { id: string }): Promise<ConnectorCall> {
    expect((await h.post(activity)).status).toBe(200);
    return (await h.connector.waitFor((c) => c.activityId === activity.id))[0]!;
  }

  async function openTicketIn(chatId: string, subject: string): Promise<number> {
    const created = await post(groupMessage(chatId, alex, `new ${subject}`));
    const ref = /(INC|REQ)-(\d+)/.exec(json(created));
    expect(ref, json(created)).not.toBeNull();
    return Number(ref![2]);
  }

  /** The next card the outbox sends into or updates in `chatId` after `since` calls, for ticket `id`. */
  async function nextCardIn(chatId: string, id: number, since: number, operation: 'send' | 'update'): Promise<ConnectorCall> {
    const [call] = await h.connector.waitFor((c) => h.connector.calls.indexOf(c) >= since && c.operation === operation && c.conversationId === chatId && json(c).includes(`-${id}"`));
    return call!;
  }

  it("keeps internal notes and agent actions out of a requester's group chat, however the card is refreshed", async () => {
    const chat = newGroupChat();
    const id = await openTicketIn(chat, 'Laptop overheats');
    const posted = await nextCardIn(chat, id, 0, 'send');
    expect(json(posted)).not.toMatch(/ticket\.take|ticket\.assign/);

    // An agent writes an internal note from the group chat: the card there is updated, without it.
    const before = h.connector.calls.length;
    const noted = await post(groupMessage(chat, megan, `note ${id} ${NOTE}`));
    expect(json(noted)).toContain('Internal note added');
    const updated = await nextCardIn(chat, id, before, 'update');
    expect(json(updated)).not.toContain(NOTE);
    expect(json(updated)).not.toMatch(/ticket\.take|ticket\.assign|ticket\.note/);
    // The same agent sees the note in their own chat: the view above really left it out.
    expect(json(await post(personalMessage(h, `show ${id}`, { from: megan })))).toContain(NOTE);

    // show and history typed in the group chat: the requester's view.
    const shown = await post(groupMessage(chat, megan, `show ${id}`));
    expect(json(shown)).toContain(`INC-${id}`);
    expect(json(shown)).not.toContain(NOTE);
    expect(json(shown)).not.toMatch(/ticket\.take|ticket\.assign/);
    expect(json(await post(groupMessage(chat, megan, `history ${id}`)))).not.toContain(NOTE);

    // Taking it there updates the card, still without agent content.
    const beforeTake = h.connector.calls.length;
    await post(groupMessage(chat, megan, `take ${id}`));
    expect(json(await nextCardIn(chat, id, beforeTake, 'update'))).not.toContain(NOTE);

    // Lists name other people's tickets: not here.
    for (const list of ['unassigned', 'open', 'breaching']) {
      expect(json(await post(groupMessage(chat, megan, list)))).toContain('Not everyone in this conversation is an agent');
    }
  });

  it('makes an agent’s thread reply in a channel outside the desk public, and says so', async () => {
    const root = channelMessage(h, 'new Projector in room 4 flickers', { from: alex, channel: OTHER_CHANNEL });
    root.channelData = { ...root.channelData, teamsChannelId: OTHER_CHANNEL, teamsTeamId: OTHER_TEAM, channel: { id: OTHER_CHANNEL }, team: { id: OTHER_TEAM, name: 'Marketing' } };
    await post(root);
    const [card] = await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === OTHER_CHANNEL && /INC-\d+/.test(json(c)));
    const id = Number(/INC-(\d+)/.exec(json(card!))![1]);
    expect(json(card!)).not.toMatch(/ticket\.take|ticket\.assign/);

    const reply = channelMessage(h, 'looking into it now', { from: megan, channel: OTHER_CHANNEL, threadRootId: card!.createdId! });
    reply.text = 'looking into it now';
    reply.entities = [];
    reply.channelData = root.channelData;
    const answer = json(await post(reply));
    expect(answer).toContain('public reply the requester can read');
    const entries = await h.service.database.db.selectFrom('timeline_entries').select(['kind', 'visibility', 'body']).where('ticket_id', '=', id).execute();
    expect(entries).toContainEqual({ kind: 'reply', visibility: 'public', body: 'looking into it now' });
  });

  it('answers a requester’s replayed card actions with a refusal and nothing of the ticket', async () => {
    const created = await post(personalMessage(h, 'new Payroll export is wrong', { from: megan }));
    const id = Number(/INC-(\d+)/.exec(json(created))![1]);
    const escalation = await post(personalMessage(h, `escalate ${id} customer is furious`, { from: megan }));
    expect(json(escalation)).toMatch(/escalat/i);
    const stranger = somebody('Curious Requester');
    await h.install(stranger);
    expect(json(await post(personalMessage(h, `remind me ${id} in 2h`, { from: megan })))).toContain("I'll remind you");
    const db = h.service.database.db;
    const escalationId = (await db.selectFrom('escalations').select('id').where('ticket_id', '=', id).executeTakeFirstOrThrow()).id;
    const reminderId = (await db.selectFrom('reminders').select('id').where('ticket_id', '=', id).executeTakeFirstOrThrow()).id;
    // Every verb a card can send but "create" (which makes the requester's own ticket).
    const replays = {
      [VERBS.take]: { ticket: id },
      [VERBS.open]: { ticket: id },
      [VERBS.history]: { ticket: id },
      [VERBS.assign]: { ticket: id, assignee: 1 },
      [VERBS.priority]: { ticket: id, priority: 'P1' },
      [VERBS.status]: { ticket: id, status: 'resolved' },
      [VERBS.note]: { ticket: id, note: 'hi', visibility: 'internal' },
      [VERBS.comment]: { ticket: id, note: 'hi' },
      [VERBS.reopen]: { ticket: id },
      [VERBS.remind]: { ticket: id, when: 'in 2h' },
      [VERBS.snooze]: { ticket: id, clock: 'first_response', minutes: 30 },
      [VERBS.accept]: { escalation: escalationId },
      [VERBS.decline]: { escalation: escalationId, reason: 'no' },
      [VERBS.reminderDone]: { reminder: reminderId },
      [VERBS.reminderSnooze]: { reminder: reminderId, minutes: 30 },
      [VERBS.more]: { list: 'unassigned', after: { updatedAt: Date.now(), id: id + 1 }, page: 2 },
      // A message pending in someone else's chat is not found from this one, whatever its id.
      [VERBS.requestCreate]: { pending: '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4' },
      [VERBS.requestAttach]: { pending: '8f0e2b1c-3d4a-4b5c-9d6e-7f8091a2b3c4', ticket: id },
    } satisfies Record<Exclude<Verb, typeof VERBS.create>, Record<string, unknown>>;
    for (const [verb, data] of Object.entries(replays)) {
      const response = await h.post(cardAction(h, { verb, data, from: stranger }));
      expect(response.status, verb).toBe(200);
      const body = JSON.stringify(response.body);
      expect(body, verb).not.toContain(`-${id}`);
      expect(body, verb).not.toContain('Payroll export');
      expect(body, verb).not.toContain('furious');
      expect(body, verb).toMatch(/only support agents|you have no ticket|internal notes are for agents|you have no such reminder|no longer waiting/i);
    }
    // Nothing changed: the ticket is as megan left it.
    const row = await h.service.database.db.selectFrom('tickets').select(['status', 'priority', 'assignee_id']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'new', assignee_id: null });
  });

  it('reads the same to a requester for a ticket that is not theirs and one that does not exist', async () => {
    const created = await post(personalMessage(h, 'new Badge does not open the door', { from: megan }));
    const id = Number(/INC-(\d+)/.exec(json(created))![1]);
    const stranger = somebody('Prober');
    await h.install(stranger);
    const missing = id + 100_000;
    const strip = (text: string, n: number) => text.replaceAll(String(n), 'N');
    for (const command of ['show', 'history', 'reopen']) {
      const existing = json(await post(personalMessage(h, `${command} ${id}`, { from: stranger })));
      const absent = json(await post(personalMessage(h, `${command} ${missing}`, { from: stranger })));
      expect(strip(existing, id), command).toBe(strip(absent, missing));
    }
    const pressExisting = JSON.stringify((await h.post(cardAction(h, { verb: 'ticket.open', data: { ticket: id }, from: stranger }))).body);
    const pressAbsent = JSON.stringify((await h.post(cardAction(h, { verb: 'ticket.open', data: { ticket: missing }, from: stranger }))).body);
    expect(strip(pressExisting, id)).toBe(strip(pressAbsent, missing));
  });

  it('lets requesters pick at most P2 in the new-ticket form; agents triage', async () => {
    // "new" offers the form in a dialog: the button's task/fetch answers with it.
    const opener = (cardOf(await post(personalMessage(h, 'new', { from: alex }))).actions as Array<{ data: Record<string, unknown> }>)[0]!.data;
    const formFor = async (person: Person) => JSON.stringify((await h.post(invoke(h, 'task/fetch', { data: opener, context: { theme: 'default' } }, person))).body);
    const form = await formFor(alex);
    expect(form).toContain('"value":"P2"');
    expect(form).not.toContain('"value":"P1"');
    expect(await formFor(megan)).toContain('"value":"P1"');

    const response = await h.post(cardAction(h, { verb: 'ticket.create', data: { subject: 'Everything is down', description: '', type: 'incident', priority: 'P1' }, from: alex }));
    expect(JSON.stringify(response.body)).toMatch(/as P2: agents set P1 when they triage it/);
    const row = await h.service.database.db.selectFrom('tickets').select('priority').where('subject', '=', 'Everything is down').executeTakeFirstOrThrow();
    expect(row.priority).toBe('P2');
  });

  it("refuses an agent of another support team on that team's tickets, telling nothing of them", async () => {
    const teams = { red: { team: '19:team-red@thread.tacv2', channel: '19:red-support@thread.tacv2' }, blue: { team: '19:team-blue@thread.tacv2', channel: '19:blue-support@thread.tacv2' } };
    const inTeam = (which: keyof typeof teams, from: Person, text: string, rest: Record<string, unknown> = {}) => {
      const { team, channel } = teams[which];
      const message = channelMessage(h, text, { from, channel, ...rest });
      return { ...message, channelData: { ...message.channelData, teamsChannelId: channel, teamsTeamId: team, channel: { id: channel }, team: { id: team, name: which } } };
    };
    const red = somebody('Red Agent');
    const blue = somebody('Blue Agent');
    for (const [which, member] of [['red', red], ['blue', blue]] as const) {
      h.connector.members.clear();
      h.connector.members.set(member.id, { id: member.id, name: member.name, aadObjectId: member.aadObjectId, email: `${member.aadObjectId}@contoso.com`, userPrincipalName: `${member.aadObjectId}@contoso.com`, tenantId: TENANT_ID });
      expect(json(await post(inTeam(which, adele, 'setup support team')))).toContain('is now a support team');
    }
    await h.install(red, blue);

    const created = await post(inTeam('red', red, 'new Red router drops packets'));
    const id = Number(/INC-(\d+)/.exec(json(created))![1]);
    // Blue's agent: typed or pressed, nothing about red's ticket comes back, and nothing changes.
    for (const command of [`show ${id}`, `take ${id}`, `note ${id} hello`, `priority ${id} P1`, `escalate ${id}`]) {
      const answer = json(await post(personalMessage(h, command, { from: blue })));
      expect(answer, command).toContain('belongs to another support team');
      expect(answer, command).not.toContain('Red router');
    }
    for (const [verb, data] of [[VERBS.take, { ticket: id }], [VERBS.open, { ticket: id }], [VERBS.status, { ticket: id, status: 'resolved' }], [VERBS.snooze, { ticket: id, clock: 'first_response', minutes: 30 }]] as const) {
      const body = JSON.stringify((await h.post(cardAction(h, { verb, data, from: blue }))).body);
      expect(body, verb).toContain('belongs to another support team');
      expect(body, verb).not.toContain('Red router');
    }
    // An escalation of red's ticket (raised by a desk-wide agent) can't be accepted or declined by blue.
    expect(json(await post(personalMessage(h, `escalate ${id} router vendor is slow`, { from: megan })))).toContain('is escalated');
    const escalationId = (await h.service.database.db.selectFrom('escalations').select('id').where('ticket_id', '=', id).executeTakeFirstOrThrow()).id;
    for (const verb of [VERBS.accept, VERBS.decline]) {
      const body = JSON.stringify((await h.post(cardAction(h, { verb, data: { escalation: escalationId }, from: blue }))).body);
      expect(body, verb).toContain('That escalation does not exist');
      expect(body, verb).not.toContain('Red router');
      expect(body, verb).not.toContain('vendor is slow');
    }
    const row = await h.service.database.db.selectFrom('tickets').select(['assignee_id', 'status', 'priority']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ assignee_id: null, status: 'new' });
    // Blue's lists leave red's ticket out (typed, and a tampered "more" naming red's team); red's show it.
    for (const list of ['open', 'unassigned']) expect(json(await post(personalMessage(h, list, { from: blue }))), list).not.toContain('Red router');
    const tampered = JSON.stringify((await h.post(cardAction(h, { verb: VERBS.more, data: { list: 'team', teamId: teams.red.team, after: { updatedAt: Date.now() + 60_000, id: id + 1 }, page: 2 }, from: blue }))).body);
    expect(tampered).not.toContain('Red router');
    expect(json(await post(personalMessage(h, 'unassigned', { from: red })))).toContain('Red router');
    // Red's own agent and a desk-wide agent work it as usual.
    expect(json(await post(personalMessage(h, `take ${id}`, { from: red })))).toContain(`You took INC-${id}`);
    expect(json(await post(personalMessage(h, `show ${id}`, { from: megan })))).toContain('Red router');
  });
});
