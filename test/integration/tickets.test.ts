import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import {
  adele,
  alex,
  cardAction,
  cardSubmit,
  channelMessage,
  CHANNEL_ID,
  megan,
  personalConversationId,
  personalInstall,
  personalMessage,
  somebody,
  someTeam,
  TEAM_ID,
  TENANT_ID,
  type Person,
} from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { createdReference, openTicket, ticketIdOf } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';

const lee: Person = { id: '29:1lee-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000c3', name: 'Lee Gu' };
const outsider: Person = { id: '29:1eve-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000e5', name: 'Eve Outsider' };

describe('working tickets from Teams (HTTP, auth on, fake channel)', () => {
  let h: Harness;
  /** Cards the bot answered this test's invokes with, checked against the schema after the test. */
  let invokeCards: unknown[] = [];
  /** Where this test's connector calls and log lines start. */
  let callsBefore = 0;
  let logsBefore = 0;

  // A desk of its own for each test: besides rows, tests share the triage channel's send budget (Teams
  // allows 60 posts to one conversation per 30 s), and a test that opens two dozen tickets would make
  // the next test's triage card wait behind its own.
  beforeEach(async () => {
    h = await startHarness({
      env: {
        AGENT_IDS: `${megan.aadObjectId},${lee.aadObjectId}`,
        ADMIN_IDS: adele.aadObjectId,
        ALLOWED_TENANT_IDS: TENANT_ID,
      },
    });
    for (const person of [alex, megan, lee, adele]) {
      const install = personalInstall(h, 'add', person);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
      // People are known by name once they have used the bot ("assign 12 to lee").
      await h.say(person, 'help');
    }
    // Every test may expect the triage channel to get ticket cards.
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
  });
  afterEach(() => h.stop());

  beforeEach(() => {
    invokeCards = [];
    callsBefore = h.connector.calls.length;
    logsBefore = h.logs.lines.length;
  });
  // Whatever a test made the bot send must be a card Teams can render: Adaptive Cards 1.5 that parse.
  afterEach(() => {
    const sent = h.connector.calls.slice(callsBefore).filter((c) => c.status < 300 && c.activity.attachments?.length).map(cardOf);
    for (const card of [...sent, ...invokeCards]) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });

  const db = () => h.service.database.db;
  const cardOf = (call: ConnectorCall) => call.activity.attachments?.[0]?.content;
  const textOf = (call: ConnectorCall | undefined) => JSON.stringify(cardOf(call!) ?? call!.activity.text);

  /** Sends a message and returns the bot's reply to it. */
  async function say(person: Person, text: string, where: { channel?: boolean; thread?: string; mention?: boolean } = {}): Promise<ConnectorCall> {
    const activity = where.channel
      ? channelMessage(h, text, { from: person, ...(where.thread ? { threadRootId: where.thread } : {}) })
      : personalMessage(h, text, { from: person });
    if (where.channel && where.mention === false) {
      activity.text = text;
      activity.entities = [];
    }
    expect((await h.post(activity)).status).toBe(200);
    const [reply] = await h.connector.waitFor((c) => c.activityId === activity.id);
    return reply!;
  }

  /** Presses a card button (Action.Execute) and returns the card the bot answered with. */
  async function press(person: Person, verb: string, data: Record<string, unknown>, options: { inChannel?: boolean; replyToId?: string } = {}) {
    const response = await h.post(cardAction(h, { verb, data, from: person, ...options }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    invokeCards.push(response.body.value);
    return response.body.value as Record<string, any>;
  }

  const ticketRow = (id: number) => db().selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const timeline = (id: number) => db().selectFrom('timeline_entries').selectAll().where('ticket_id', '=', id).orderBy('id').execute();
  const audit = (id: number) => db().selectFrom('audit_log').selectAll().where('ticket_id', '=', id).orderBy('id').execute();
  const ticketCount = async () => (await db().selectFrom('tickets').select('id').execute()).length;
  /** Opens a ticket as `person` by chat and returns its id, as the bot's answer names it. */
  const open = async (person: Person, subject: string) => (await openTicket(h, person, subject)).id;
  /** The id of the ticket a "Created INC-12" card (an invoke's answer) names. */
  const createdBy = async (card: unknown) => {
    const match = /Created ((?:INC|REQ)-\d+)/.exec(JSON.stringify(card));
    if (!match) throw new Error(`no ticket was created: ${JSON.stringify(card).slice(0, 300)}`);
    return ticketIdOf(h, match[1]!);
  };

  /** Waits for the outbox to post the card of `ticketId` to a conversation, and returns that post. */
  const cardPosted = async (ticketId: number, conversationId: string) => {
    const [call] = await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === conversationId && JSON.stringify(cardOf(c) ?? '').includes(`-${ticketId}"`));
    return call!;
  };

  /** A ticket alex opened, with the copies of its card the outbox posted to him and to triage. */
  async function openWithCards(subject: string) {
    const id = await open(alex, subject);
    const requesterCard = await cardPosted(id, personalConversationId(alex));
    const triageCard = await cardPosted(id, CHANNEL_ID);
    // Copies are recorded in batches; wait until both are on record before anything acts on them.
    await expect.poll(() => db().selectFrom('card_posts').selectAll().where('ticket_id', '=', id).execute()).toHaveLength(2);
    return { id, requesterCard, triageCard };
  }

  describe('opening tickets', () => {
    it('lets an admin map the triage channel, and refuses that to agents', async () => {
      expect(textOf(await say(megan, 'setup triage', { channel: true }))).toContain('Only admins can set up channels and teams');
      expect(textOf(await say(adele, 'setup triage', { channel: true }))).toContain('This channel is now the triage channel');
    });

    it('opens a ticket from a personal chat: the requester gets its card, and so does the triage channel', async () => {
      const reply = await say(alex, 'new VPN drops every 10 minutes');
      expect(textOf(reply)).toMatch(/Created INC-\d+/);
      const vpn = await ticketIdOf(h, createdReference(reply));
      expect(await ticketRow(vpn)).toMatchObject({ subject: 'VPN drops every 10 minutes', status: 'new', priority: 'P3', source: 'chat', assignee_id: null });

      const requesterCard = await cardPosted(vpn, personalConversationId(alex));
      const triageCard = await cardPosted(vpn, CHANNEL_ID);
      expect(requesterCard.activity.summary).toContain(`INC-${vpn}`);
      // The requester's copy has no agent buttons; the triage copy offers Take.
      expect(textOf(requesterCard)).not.toContain('ticket.take');
      expect(textOf(triageCard)).toContain('ticket.take');
      await expect.poll(() => db().selectFrom('card_posts').selectAll().where('ticket_id', '=', vpn).execute()).toHaveLength(2);
    });

    it('also posts a new P1 to the channel mapped as critical', async () => {
      const critical = '19:critical-incidents@thread.tacv2';
      const setup = channelMessage(h, 'setup critical', { from: adele, channel: critical });
      await h.post(setup);
      const [done] = await h.connector.waitFor((c) => c.activityId === setup.id);
      expect(textOf(done)).toContain('New P1 tickets are now posted to this channel');
      const created = await press(adele, 'ticket.create', { subject: 'Payroll system is down', description: '', type: 'incident', priority: 'P1' });
      expect(JSON.stringify(created)).toMatch(/Created INC-\d+/);
      const id = await createdBy(created);
      await cardPosted(id, critical);
      await cardPosted(id, CHANNEL_ID);
      // A P3 does not go there.
      const p3 = await open(alex, 'Mouse is sticky');
      await cardPosted(p3, CHANNEL_ID);
      expect(h.connector.calls.some((c) => c.conversationId === critical && JSON.stringify(cardOf(c) ?? '').includes(`-${p3}"`))).toBe(false);
    });

    it('offers a form for "new", and creates the ticket from it', async () => {
      // "new" answers with a button that opens the form in a dialog (test/integration/dialogs.test.ts);
      // a form card posted before still creates through its Action.Execute button.
      const form = await say(alex, 'New ticket');
      expect(textOf(form)).toContain('dialog.new-ticket');
      const refused = await press(alex, 'ticket.create', { subject: '   ', description: 'x', type: 'request', priority: 'P2' });
      expect(JSON.stringify(refused)).toContain('A ticket needs a subject');
      const created = await press(alex, 'ticket.create', { subject: 'Need a second monitor', description: 'For the new desk', type: 'request', priority: 'P4' });
      expect(JSON.stringify(created)).toMatch(/Created REQ-\d+/);
      expect(await ticketRow(await createdBy(created))).toMatchObject({ subject: 'Need a second monitor', type: 'request', priority: 'P4', description: 'For the new desk' });
    });

    it('opens a ticket in a channel as a new thread there, belonging to the team', async () => {
      const reply = await say(megan, 'new Printer on floor 3 is on fire', { channel: true });
      expect(textOf(reply)).toContain('starts a new thread in this channel');
      const id = await ticketIdOf(h, createdReference(reply));
      expect(await ticketRow(id)).toMatchObject({ source: 'channel', team_id: TEAM_ID });
      const post = await cardPosted(id, CHANNEL_ID);
      expect(post.operation).toBe('send');
    });

    it('shows markdown and HTML in a subject literally', async () => {
      const subject = '**bold** [x](https://evil.example) <script>alert(1)</script>';
      // Teams delivers typed angle brackets as HTML entities.
      const reply = await say(alex, `new ${subject.replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
      const card = cardOf(await cardPosted(await ticketIdOf(h, createdReference(reply)), personalConversationId(alex)));
      const runs: string[] = [];
      const blocks: string[] = [];
      JSON.stringify(card, (_k, v) => {
        if (v?.type === 'TextRun') runs.push(v.text);
        if (v?.type === 'TextBlock') blocks.push(v.text);
        return v;
      });
      expect(runs).toContain(subject);
      expect(blocks.join(' ')).not.toContain('<script>');
    });
  });

  describe('changing tickets', () => {
    it('takes a ticket by command and updates every posted copy in place', async () => {
      const { id: vpn, requesterCard, triageCard } = await openWithCards('VPN drops every 10 minutes');
      const reply = await say(megan, `take INC-${vpn}`);
      expect(textOf(reply)).toContain(`You took INC-${vpn}`);
      expect(await ticketRow(vpn)).toMatchObject({ assignee_id: expect.any(Number), status: 'open' });

      const updates = await h.connector.waitFor((c) => c.operation === 'update' && (c.activityId === triageCard.activityId || c.activityId === requesterCard.activityId), { count: 2 });
      const requesterUpdate = updates.find((u) => u.activityId === requesterCard.activityId)!;
      const triageUpdate = updates.find((u) => u.activityId === triageCard.activityId)!;
      expect(textOf(requesterUpdate)).toContain('Megan Bowen');
      expect(textOf(requesterUpdate)).not.toContain('ticket.assign');
      expect(textOf(triageUpdate)).toContain('Megan Bowen');
      expect(textOf(triageUpdate)).not.toContain('ticket.take');
    });

    it('lets exactly one of two agents win a Take race, and both cards name the winner', async () => {
      const id = await open(alex, 'Outlook will not start');
      const [a, b] = await Promise.all([press(megan, 'ticket.take', { ticket: id }), press(lee, 'ticket.take', { ticket: id })]);
      const row = await ticketRow(id);
      const winner = row.assignee_id === (await db().selectFrom('people').select('id').where('teams_id', '=', megan.id).executeTakeFirstOrThrow()).id ? 'Megan Bowen' : 'Lee Gu';
      for (const card of [a, b]) expect(JSON.stringify(card)).toContain(`"text":"${winner}"`);
      expect(JSON.stringify([a, b])).toContain(`already taken by ${winner}`);
      expect((await timeline(id)).filter((e) => e.kind === 'assigned')).toHaveLength(1);
    });

    it('assigns by @mention, looking up someone the bot has not met, and by name', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      const newcomer: Person = { id: '29:1nestor-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000f6', name: 'Nestor Wilke' };
      h.connector.members.set(newcomer.id, { id: newcomer.id, name: newcomer.name, aadObjectId: newcomer.aadObjectId, email: 'nestor@contoso.com', userPrincipalName: 'nestor@contoso.com', tenantId: TENANT_ID });
      const message = channelMessage(h, `assign INC-${vpn} to <at>Nestor Wilke</at>`, { from: megan });
      message.entities.push({ type: 'mention', text: '<at>Nestor Wilke</at>', mentioned: { id: newcomer.id, name: newcomer.name } });
      await h.post(message);
      const [refusal] = await h.connector.waitFor((c) => c.activityId === message.id);
      expect(textOf(refusal)).toContain('Nestor Wilke is not a support agent');
      expect(await db().selectFrom('people').select('email').where('teams_id', '=', newcomer.id).executeTakeFirst()).toEqual({ email: 'nestor@contoso.com' });

      const byName = await say(megan, `assign ${vpn} to lee`);
      expect(textOf(byName)).toContain(`INC-${vpn} is now assigned to Lee Gu`);
      // Lee gets the ticket card in a personal chat.
      await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === personalConversationId(lee) && textOf(c).includes(`INC-${vpn}`));
    });

    it('changes priority and status, with each change on the timeline and in the audit log', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      // Taken by one agent, then handed to another: the two assignments the timeline starts with.
      expect(textOf(await say(megan, `take INC-${vpn}`))).toContain(`You took INC-${vpn}`);
      expect(textOf(await say(megan, `assign ${vpn} to lee`))).toContain(`INC-${vpn} is now assigned to Lee Gu`);
      expect(textOf(await say(lee, `priority #${vpn} p1`))).toContain('P1 · Critical');
      expect(textOf(await say(lee, `pending ${vpn}`))).toContain('pending customer');
      expect(textOf(await say(lee, `hold ${vpn}`))).toContain('on hold');
      expect(textOf(await say(lee, `resolve INC-${vpn} restarted the VPN concentrator`))).toContain('resolved');
      expect(textOf(await say(lee, `resolve INC-${vpn}`))).toContain('already resolved');
      expect(textOf(await say(lee, `pending INC-${vpn}`))).toContain('reopen it first');
      // The requester hears about the resolution in their chat, with the note.
      await h.connector.waitFor((c) => c.conversationId === personalConversationId(alex) && c.operation === 'send' && textOf(c).includes('restarted the VPN concentrator'));
      expect(textOf(await say(lee, `close ${vpn}`))).toContain('closed');
      expect(await ticketRow(vpn)).toMatchObject({ status: 'closed', priority: 'P1', is_open: 0 });
      expect(textOf(await say(alex, `reopen ${vpn} still dropping`))).toContain('reopened');
      const row = await ticketRow(vpn);
      expect(row).toMatchObject({ status: 'open', resolved_at: null, closed_at: null, is_open: 1 });

      const entries = await timeline(vpn);
      const changes = entries.filter((e) => e.kind !== 'created');
      expect(changes.map((e) => e.kind)).toEqual(['assigned', 'assigned', 'priority', 'status', 'status', 'status', 'status', 'status']);
      const rows = await audit(vpn);
      expect(rows).toHaveLength(entries.length);
      expect(rows.every((r) => r.surface === 'chat')).toBe(true);
    });

    it('keeps internal notes from requesters, and counts the first public reply as first response', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      await say(lee, `note ${vpn} customer is on the old client`);
      expect((await ticketRow(vpn)).first_response_at).toBeNull();
      await say(lee, `reply ${vpn} please update the client and try again`);
      expect((await ticketRow(vpn)).first_response_at).not.toBeNull();

      const requesterHistory = textOf(await say(alex, `history ${vpn}`));
      expect(requesterHistory).toContain('please update the client');
      expect(requesterHistory).not.toContain('old client');
      const agentHistory = textOf(await say(lee, `history ${vpn}`));
      expect(agentHistory).toContain('old client');
      expect(agentHistory).toContain('(internal)');
    });

    it('turns replies in a ticket card thread into notes, public when they start with "reply"', async () => {
      const { id: vpn, triageCard } = await openWithCards('VPN drops every 10 minutes');
      await say(megan, `show ${vpn}`, { channel: true });
      const root = triageCard.activityId!;
      await say(megan, 'called the customer, waiting for logs', { channel: true, thread: root, mention: false });
      await say(megan, 'reply we have what we need, thank you', { channel: true, thread: root, mention: false });
      const entries = await timeline(vpn);
      expect(entries.at(-2)).toMatchObject({ kind: 'note', visibility: 'internal', body: 'called the customer, waiting for logs' });
      expect(entries.at(-1)).toMatchObject({ kind: 'reply', visibility: 'public', body: 'we have what we need, thank you' });
      // Channel talk that is neither for the bot nor under a ticket card gets no answer at all.
      const chatter = channelMessage(h, 'lunch?', { from: megan });
      chatter.text = 'lunch?';
      chatter.entities = [];
      // The turn is over when the POST returns, so any answer would already be at the connector.
      expect((await h.post(chatter)).status).toBe(200);
      expect(h.connector.calls.filter((c) => c.activityId === chatter.id)).toEqual([]);
    });

    it('acts on card buttons (Action.Execute) with the same rules, answering with the fresh card', async () => {
      const id = await open(alex, 'Laptop fan is loud');
      const lees = (await db().selectFrom('people').select('id').where('teams_id', '=', lee.id).executeTakeFirstOrThrow()).id;
      expect(JSON.stringify(await press(megan, 'ticket.assign', { ticket: id, assignee: String(lees) }, { inChannel: true }))).toContain(`INC-${id} is now assigned to Lee Gu`);
      expect(JSON.stringify(await press(megan, 'ticket.priority', { ticket: id, priority: 'P2' }))).toContain('P2 · High');
      expect(JSON.stringify(await press(megan, 'ticket.status', { ticket: id, status: 'pending', statusNote: '' }))).toContain('Pending customer');
      expect(JSON.stringify(await press(megan, 'ticket.note', { ticket: id, note: 'checked the BIOS', visibility: 'internal' }))).toContain('Internal note added');
      expect(JSON.stringify(await press(alex, 'ticket.comment', { ticket: id, note: 'it is worse today' }))).toContain('Reply added');
      // A requester's reply hands a pending ticket back to the agents.
      expect((await ticketRow(id)).status).toBe('open');
      const historyCall = h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && textOf(c).includes(`History of INC-${id}`));
      const card = await press(megan, 'ticket.history', { ticket: id });
      expect(JSON.stringify(card)).toContain(`INC-${id}`);
      await historyCall;
      expect((await audit(id)).filter((r) => r.surface === 'card')).toHaveLength(5);
    });

    it('acts on the Action.Submit fallback too, replying with a confirmation', async () => {
      const id = await open(alex, 'Keyboard missing keys');
      const submit = cardSubmit(h, { verb: 'ticket.take', ticket: id }, megan);
      await h.post(submit);
      const [reply] = await h.connector.waitFor((c) => c.activityId === submit.id);
      expect(textOf(reply)).toContain(`You took INC-${id}`);
      expect((await ticketRow(id)).assignee_id).not.toBeNull();
    });
  });

  describe('rights and bad input', () => {
    it('lets requesters follow their own tickets and nothing more', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      const someone = somebody('Requester');
      const install = personalInstall(h, 'add', someone);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
      // Not theirs reads the same as not there, so ticket numbers can't be probed.
      expect(textOf(await say(someone, `show ${vpn}`))).toContain(`You have no ticket #${vpn}`);
      expect(textOf(await say(someone, 'show 999999'))).toContain('You have no ticket #999999');
      expect(textOf(await say(alex, `take ${vpn}`))).toMatch(/only support agents can do that/i);
      expect(textOf(await say(alex, `note ${vpn} hello`))).toMatch(/internal notes are for agents/i);
      expect(textOf(await say(alex, 'unassigned'))).toMatch(/only support agents can do that/i);
      const refused = JSON.stringify(await press(someone, 'ticket.take', { ticket: vpn }));
      expect(refused).toContain('Only support agents can do that');
      expect(refused).not.toContain(`INC-${vpn}`);
      expect(textOf(await say(alex, `show ${vpn}`))).toContain(`INC-${vpn}`);
    });

    it('refuses requesters agent work in a channel too, and outsiders on card buttons', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      expect(textOf(await say(alex, `take ${vpn}`, { channel: true }))).toMatch(/only support agents can do that/i);
      const press = cardAction(h, { verb: 'ticket.take', data: { ticket: vpn }, from: outsider });
      press.conversation.tenantId = 'ffffffff-0000-0000-0000-000000000000';
      press.channelData = { tenant: { id: 'ffffffff-0000-0000-0000-000000000000' }, source: { name: 'message' } };
      // Refused at the door (ALLOWED_TENANT_IDS), before the bot stores or sends anything.
      const response = await h.post(press);
      expect(response).toMatchObject({ status: 403, body: { reason: expect.stringMatching(/tenant/) } });
    });

    it('refuses people from other tenants at the door: nothing stored, nothing sent', async () => {
      const message = personalMessage(h, 'new let me in', { from: outsider });
      message.conversation.tenantId = 'ffffffff-0000-0000-0000-000000000000';
      message.channelData = { tenant: { id: 'ffffffff-0000-0000-0000-000000000000' } };
      const before = await ticketCount();
      const calls = h.connector.calls.length;
      expect((await h.post(message)).status).toBe(403);
      expect(h.connector.calls.length).toBe(calls);
      expect(await ticketCount()).toBe(before);
    });

    it('changes nothing for tampered card data or an unknown verb, and says so', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      const before = await ticketRow(vpn);
      for (const data of [{ ticket: 'DROP TABLE' }, { ticket: -1 }, {}, { ticket: vpn, priority: 'P0' }]) {
        const card = await press(megan, data.priority ? 'ticket.priority' : 'ticket.take', data);
        expect(JSON.stringify(card)).toContain("sent something I can't use");
      }
      expect(JSON.stringify(await press(megan, 'ticket.destroy', { ticket: vpn }))).toContain('no longer supported');
      expect(JSON.stringify(await press(megan, 'ticket.take', { ticket: 987654 }))).toContain('There is no ticket #987654');
      expect(await ticketRow(vpn)).toEqual(before);
      expect(h.logs.lines.slice(logsBefore).some((l) => l.msg === 'card action with invalid data' && l.verb === 'ticket.take')).toBe(true);
    });

    it('suggests the closest command, and says when a reference does not exist', async () => {
      const vpn = await open(alex, 'VPN drops every 10 minutes');
      expect(textOf(await say(megan, `tkae INC-${vpn}`))).toContain(`Did you mean “take INC-${vpn}”?`);
      expect(textOf(await say(megan, 'show INC-99999'))).toContain('There is no ticket #99999');
      expect(textOf(await say(megan, 'take'))).toContain('Which ticket?');
    });

    it('registers a support team: its members become agents', async () => {
      const newbie: Person = { id: '29:1pradeep-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000a7', name: 'Pradeep Gupta' };
      h.connector.members.set(newbie.id, { id: newbie.id, name: newbie.name, aadObjectId: newbie.aadObjectId, email: 'pradeep@contoso.com', userPrincipalName: 'pradeep@contoso.com', tenantId: TENANT_ID });
      // In a team of its own: a channel has one role, and the triage channel must stay the triage channel.
      const { team, channel } = someTeam();
      const setup = async (person: Person) => {
        const message = channelMessage(h, 'setup support team', { from: person, channel, team });
        expect((await h.post(message)).status).toBe(200);
        return textOf((await h.connector.waitFor((c) => c.activityId === message.id))[0]);
      };
      expect(await setup(megan)).toContain('Only admins');
      expect(await setup(adele)).toContain('is now a support team');
      const install = personalInstall(h, 'add', newbie);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
      expect(textOf(await say(newbie, 'team'))).toContain("Your team's tickets");
    });
  });

  describe('cards kept up to date', () => {
    it('updates a card shown on request when the ticket changes later, and only the newest copy per chat', async () => {
      const id = await open(alex, 'Projector flickers');
      const first = await say(megan, `show ${id}`);
      const second = await say(megan, `show INC-${id}`);
      // Copies are recorded in batches; wait until the newest is on record before changing the ticket.
      await expect.poll(() => db().selectFrom('card_posts').select(['activity_id', 'live']).where('ticket_id', '=', id).where('kind', '=', 'show').execute()).toEqual(
        expect.arrayContaining([{ activity_id: second.createdId, live: 1 }]),
      );
      await say(megan, `priority ${id} P2`);
      const [update] = await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === second.createdId);
      expect(textOf(update)).toContain('P2 · High');
      expect(h.connector.calls.some((c) => c.operation === 'update' && c.activityId === first.createdId)).toBe(false);
    });
  });

  describe('help by role', () => {
    it('shows requesters, agents and admins what each may do', async () => {
      const requesterHelp = textOf(await say(alex, 'help'));
      expect(requesterHelp).toContain('my tickets');
      expect(requesterHelp).not.toContain('take <ref>');
      const agentHelp = textOf(await say(megan, '?'));
      expect(agentHelp).toContain('take <ref>');
      expect(agentHelp).not.toContain('setup triage');
      expect(textOf(await say(adele, 'help', { channel: true }))).toContain('setup triage');
    });
  });

  describe('lists', () => {
    it('pages ten at a time, newest activity first, with a More button', async () => {
      const requester = somebody('Busy Requester');
      for (let i = 1; i <= 23; i++) await h.post(personalMessage(h, `new Paging ticket ${String(i).padStart(2, '0')}`, { from: requester }));
      await expect.poll(async () => (await db().selectFrom('tickets').select('id').where('subject', 'like', 'Paging ticket%').execute()).length).toBe(23);

      const first = await say(requester, 'my tickets');
      const firstCard = cardOf(first);
      const subjects = (card: unknown) => [...JSON.stringify(card).matchAll(/Paging ticket (\d\d)/g)].map((m) => m[1]);
      expect(subjects(firstCard)).toEqual(['23', '22', '21', '20', '19', '18', '17', '16', '15', '14']);
      const more = firstCard.actions.find((a: any) => a.title === 'More');
      const second = await press(requester, more.verb, more.data);
      expect(subjects(second)).toEqual(['13', '12', '11', '10', '09', '08', '07', '06', '05', '04']);
      const third = await press(requester, 'list.more', second.actions.find((a: any) => a.title === 'More').data);
      expect(subjects(third)).toEqual(['03', '02', '01']);
      expect(third.actions).toBeUndefined();
      expect(JSON.stringify(third)).toContain('page 3');
    });

    it('lists what is unassigned and what is mine for agents, and nothing breaching yet', async () => {
      const unassigned = await open(alex, 'Nobody has this one yet');
      const lees = await open(alex, 'Lee is on this one');
      expect(textOf(await say(megan, `assign ${lees} to lee`))).toContain(`INC-${lees} is now assigned to Lee Gu`);
      const waiting = textOf(await say(megan, 'unassigned'));
      expect(waiting).toContain(`INC-${unassigned}`);
      expect(waiting).not.toContain(`INC-${lees}`);
      const mine = textOf(await say(lee, 'list'));
      expect(mine).toContain(`INC-${lees}`);
      expect(textOf(await say(megan, 'breaching'))).toContain('Nothing is close to breaching');
    });
  });

  it('sends only cards that validate against Adaptive Cards 1.5 and parse in the object model', async () => {
    // One of each: the form, a created ticket and its posted copies, shown, taken (copies updated),
    // changed by button, its history, the lists and the help of each role.
    await say(alex, 'New ticket');
    const { id, requesterCard, triageCard } = await openWithCards('Docking station has no video');
    await say(megan, `show ${id}`);
    await say(megan, `take ${id}`);
    await press(megan, 'ticket.priority', { ticket: id, priority: 'P2' });
    await press(megan, 'ticket.history', { ticket: id });
    for (const [person, text] of [[alex, 'my tickets'], [megan, 'unassigned'], [megan, 'list'], [megan, 'breaching'], [alex, 'help'], [megan, 'help'], [adele, 'help']] as const) await say(person, text);
    await h.connector.waitFor((c) => c.operation === 'update' && (c.activityId === triageCard.activityId || c.activityId === requesterCard.activityId), { count: 2 });
    const sent = h.connector.calls.slice(callsBefore).filter((c) => c.status < 300 && c.activity.attachments?.length).map(cardOf);
    expect(sent.length + invokeCards.length).toBeGreaterThan(15);
    for (const card of [...sent, ...invokeCards]) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
  });
});
