import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/connector.js';
import { FakeFileHost } from '../fakes/teams-files.js';
import { adele, alex, cardAction, cardSubmit, channelMessage, invoke, megan, personalInstall, personalMessage, TENANT_ID, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';
import { storedBytes } from '../support/object-stores.js';

/**
 * Free text from requesters in their personal chat, through the real endpoint: the offer to open a
 * ticket, "which ticket is this about?", follow-ups joining the ticket just discussed (and not after
 * the window), "status"/"any news?", greetings, files kept; agents keep the command suggestion.
 */

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${name}`, import.meta.url), 'utf8'));
const DOWNLOAD_INFO = fixture('message-personal-file-download-info.json').attachments[0];
const clock = testClock('2026-03-02T09:00:00Z');
const minutes = (n: number) => clock.set(new Date(clock.now() + n * 60_000).toISOString());

let host: FakeFileHost;
beforeAll(async () => {
  host = await new FakeFileHost().start();
});
afterAll(() => host.stop());

describe('free text from requesters (HTTP, auth on, fake channel)', () => {
  let h: Harness;
  let callsBefore = 0;
  let invokeCards: unknown[] = [];

  beforeEach(async () => {
    clock.reset();
    h = await startHarness({
      service: { clock: clock.now },
      env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId, ALLOWED_TENANT_IDS: TENANT_ID, ATTACHMENT_LINK_SECRET: 'test-link-secret-0123456789-abcdefghijklmnop', TEAMS_FILE_HOSTS: host.base.replace(/:\d+$/, ':*') },
    });
    for (const person of [alex, megan, adele]) {
      const install = personalInstall(h, 'add', person);
      await h.post(install);
      await h.connector.waitFor((c) => c.activityId === install.id);
    }
    const setup = channelMessage(h, 'setup triage', { from: adele });
    await h.post(setup);
    await h.connector.waitFor((c) => c.activityId === setup.id);
    callsBefore = h.connector.calls.length;
    invokeCards = [];
  });
  afterEach(async () => {
    // Every card the bot sent or answered with renders in Teams: Adaptive Cards 1.5 that parse.
    const sent = h.connector.calls.slice(callsBefore).flatMap((c) => (c.activity.attachments ?? []).filter((a: any) => a.contentType === 'application/vnd.microsoft.card.adaptive').map((a: any) => a.content));
    for (const card of [...sent, ...invokeCards]) {
      expect(schemaErrors(card)).toEqual([]);
      expect(objectModelErrors(card)).toEqual([]);
    }
    await h.stop();
  });

  const db = () => h.service.database.db;
  const cardOf = (call: ConnectorCall) => call.activity.attachments?.[0]?.content as Record<string, any>;
  const textOf = (call: ConnectorCall) => JSON.stringify(cardOf(call) ?? call.activity.text);
  const ticketCount = async () => (await db().selectFrom('tickets').select('id').execute()).length;
  const publicEntries = (id: number) => db().selectFrom('timeline_entries').select(['kind', 'visibility', 'body']).where('ticket_id', '=', id).where('kind', '=', 'reply').execute();

  async function say(person: Person, text: string, extra: Record<string, unknown> = {}, answers = 1): Promise<ConnectorCall[]> {
    const message = personalMessage(h, text, { from: person, ...extra });
    expect((await h.post(message)).status).toBe(200);
    return h.connector.waitFor((c) => c.activityId === message.id, { count: answers });
  }
  const say1 = async (person: Person, text: string) => (await say(person, text))[0]!;
  async function press(person: Person, verb: string, data: Record<string, unknown>) {
    const response = await h.post(cardAction(h, { verb, data, from: person }));
    expect(response.status).toBe(200);
    invokeCards.push(response.body.value);
    return JSON.stringify(response.body.value);
  }
  /** The button of a card with this title, its verb and data. */
  const button = (call: ConnectorCall, title: RegExp) => {
    const action = (cardOf(call).actions as Array<{ title: string; verb?: string; data: Record<string, unknown> }>).find((a) => title.test(a.title));
    if (!action) throw new Error(`no button ${title} on ${textOf(call).slice(0, 400)}`);
    return action;
  };
  const createdId = async (text: string) => {
    const ref = /Created ((?:INC|REQ)-\d+)/.exec(text)?.[1];
    if (!ref) throw new Error(`nothing created: ${text.slice(0, 300)}`);
    return (await db().selectFrom('tickets').select('id').where('reference', '=', ref).executeTakeFirstOrThrow()).id;
  };

  it('with no open tickets, offers a ticket filled in from the message; one tap opens it, and follow-ups join it only within the window', async () => {
    const offer = await say1(alex, 'My laptop will not start since the update this morning. The screen stays black, the fan spins.');
    expect(textOf(offer)).toContain('Open a ticket with this?');
    expect(textOf(offer)).toContain('My laptop will not start since the update this morning.');
    expect(await ticketCount()).toBe(0);
    // "Edit first" opens the new-ticket dialog with the subject and details filled in.
    const edit = button(offer, /Edit first/);
    const dialog = JSON.stringify((await h.post(invoke(h, 'task/fetch', { data: edit.data, context: { theme: 'default' } }, alex))).body);
    expect(dialog).toContain('"value":"My laptop will not start since the update this morning."');
    expect(dialog).toContain('The screen stays black, the fan spins.');

    const open = button(offer, /Open ticket/);
    const created = await press(alex, open.verb!, open.data);
    const id = await createdId(created);
    const row = await db().selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.subject).toBe('My laptop will not start since the update this morning.');
    expect(row.description).toContain('The screen stays black, the fan spins.');
    // A second tap on the same card does not open a second ticket.
    expect(await press(alex, open.verb!, open.data)).toContain('no longer waiting');
    expect(await ticketCount()).toBe(1);

    minutes(3);
    const followUp = await say1(alex, 'It also beeps three times when I press the power button');
    expect(textOf(followUp)).toContain(`Added to ${row.reference}`);
    expect(await publicEntries(id)).toContainEqual({ kind: 'reply', visibility: 'public', body: 'It also beeps three times when I press the power button' });

    // Past the window, the next message is not taken for a follow-up: the bot asks.
    minutes(11);
    const later = await say1(alex, 'The printer on floor 3 is jammed again');
    expect(textOf(later)).toContain('Is this about one of your open tickets?');
    expect(button(later, new RegExp(row.reference)).data).toMatchObject({ ticket: id });
    button(later, /It’s new/);
    expect(await publicEntries(id)).toHaveLength(1);
  });

  it('with several open tickets, puts the likeliest first; the chosen one gets the message and its follow-ups; "That’s a new request" opens one', async () => {
    const vpn = await openTicket(h, alex, 'VPN drops every 10 minutes');
    minutes(1);
    const badge = await openTicket(h, alex, 'Badge does not open the door');
    minutes(1);
    const mail = await openTicket(h, alex, 'Outlook asks for my password');
    minutes(15);

    const question = await say1(alex, 'the vpn dropped again while I was on the hotel wifi');
    expect(textOf(question)).toContain('Is this about one of your open tickets?');
    const titles = (cardOf(question).actions as Array<{ title: string }>).map((a) => a.title);
    // Word overlap first (the VPN ticket, though older), then most recent first, then "It's new".
    expect(titles).toEqual([`${vpn.reference} · VPN drops every 10 minutes`, `${mail.reference} · Outlook asks for my password`, `${badge.reference} · Badge does not open the door`, 'It’s new']);
    const chosen = button(question, new RegExp(vpn.reference));
    expect(await press(alex, chosen.verb!, chosen.data)).toContain(`Added to ${vpn.reference}`);
    expect(await publicEntries(vpn.id)).toContainEqual({ kind: 'reply', visibility: 'public', body: 'the vpn dropped again while I was on the hotel wifi' });

    minutes(2);
    const followUp = await say1(alex, 'it happened twice more in the last hour');
    expect(textOf(followUp)).toContain(`Added to ${vpn.reference}`);
    expect((await publicEntries(vpn.id)).map((e) => e.body)).toEqual(['the vpn dropped again while I was on the hotel wifi', 'it happened twice more in the last hour']);
    expect(await publicEntries(badge.id)).toHaveLength(0);

    // It was something else after all: one tap opens it as a ticket of its own.
    const before = await ticketCount();
    const fresh = button(followUp, /new request/);
    const created = await createdId(await press(alex, fresh.verb!, fresh.data));
    expect(await ticketCount()).toBe(before + 1);
    const opened = await db().selectFrom('tickets').select(['subject', 'reference']).where('id', '=', created).executeTakeFirstOrThrow();
    expect(opened.subject).toBe('it happened twice more in the last hour');
    // The VPN ticket keeps the message (its timeline is append-only) and says where it went.
    expect((await publicEntries(vpn.id)).at(-1)?.body).toBe(`My previous message here is a separate request: ${opened.reference}.`);
    // What Alex writes next is about the new ticket.
    expect(textOf(await say1(alex, 'it is the same on the desktop'))).toContain(`Added to ${opened.reference}`);
  });

  it('answers "status", "any news?" and "what about my VPN ticket" with the requester’s ticket, without internal notes; admins keep the health check', async () => {
    expect(textOf(await say1(alex, 'any news?'))).toContain('You have no open tickets');
    const vpn = await openTicket(h, alex, 'VPN drops every 10 minutes');
    expect(textOf(await say1(megan, `note ${vpn.reference} user is on the legacy client`))).toContain('note added');
    minutes(20);
    const one = await say1(alex, 'status');
    expect(textOf(one)).toContain(vpn.reference);
    expect(textOf(one)).not.toContain('legacy client');
    expect(textOf(await say1(alex, 'update?'))).toContain(vpn.reference);

    minutes(1);
    const badge = await openTicket(h, alex, 'Badge does not open the door');
    minutes(20);
    // Two open, nothing to tell them apart: a short list of both.
    const list = await say1(alex, 'any news?');
    expect(textOf(list)).toContain(vpn.reference);
    expect(textOf(list)).toContain(badge.reference);
    // Words that match one of them: that one.
    const about = await say1(alex, 'what about my VPN ticket');
    expect(textOf(about)).toContain('VPN drops every 10 minutes');
    expect(textOf(about)).not.toContain('Badge does not open');
    expect(textOf(about)).not.toContain('legacy client');
    const where = await say1(alex, 'where is my badge request?');
    expect(textOf(where)).toContain('Badge does not open the door');

    expect(textOf(await say1(adele, 'status'))).toContain('Service Desk is ready');
    expect(textOf(await say1(megan, 'status'))).toContain('Only admins');
  });

  it('greets and thanks back without offering a ticket; agents still get the closest command', async () => {
    for (const text of ['hi', 'Thanks!', 'thank you so much']) {
      const answer = textOf(await say1(alex, text));
      expect(answer, text).not.toContain('Open a ticket with this?');
      expect(answer, text).toMatch(/Hello|welcome/);
    }
    expect(await ticketCount()).toBe(0);
    expect(textOf(await say1(megan, 'make me a sandwich'))).toContain('I don\'t know \\"make me a sandwich\\"');
    expect(textOf(await say1(megan, 'lsit'))).toContain('Did you mean “list”?');
  });

  it('opens the ticket from a client without Universal Actions too (the Action.Submit fallback), and only in the chat it was written in', async () => {
    const offer = await say1(alex, 'Teams crashes when I share my screen');
    const open = button(offer, /Open ticket/) as unknown as { verb: string; data: Record<string, unknown>; fallback: { data: Record<string, unknown> } };
    // In a channel the same button changes nothing.
    const inChannel = await h.post(cardAction(h, { verb: open.verb, data: open.data, from: alex, inChannel: true }));
    expect(JSON.stringify(inChannel.body)).toContain('only in your personal chat');
    expect(await ticketCount()).toBe(0);
    const submit = cardSubmit(h, open.fallback.data, alex);
    expect((await h.post(submit)).status).toBe(200);
    const [answer] = await h.connector.waitFor((c) => c.activityId === submit.id);
    await createdId(textOf(answer!));
    expect(await ticketCount()).toBe(1);
  });

  it('keeps the files sent with a free-text request on the ticket it opens, and with a follow-up', async () => {
    const name = 'vpn-log.txt';
    const bytes = Buffer.from('2026-03-02 09:00 VPN tunnel down\n');
    const attachment = (file: string, content: Buffer) => ({ ...DOWNLOAD_INFO, name: file, contentUrl: `${host.base}/personal/alex/Documents/${file}`, content: { ...DOWNLOAD_INFO.content, downloadUrl: host.addDownload(content) } });
    const [offer] = await say(alex, 'VPN keeps dropping, log attached', { attachments: [attachment(name, bytes)] });
    expect(textOf(offer!)).toContain('The file you sent will be kept on the ticket');
    const open = button(offer!, /Open ticket/);
    const created = await press(alex, open.verb!, open.data);
    expect(created).toContain(`Kept on the ticket: ${name}`);
    const id = await createdId(created);
    const files = await db().selectFrom('ticket_attachments').selectAll().where('ticket_id', '=', id).execute();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ name, visibility: 'public' });
    expect((await storedBytes(h.service, files[0]!))!.equals(bytes)).toBe(true);

    const [followUp] = await say(alex, 'and a screenshot of the error', { attachments: [attachment('error.txt', Buffer.from('error 809'))] });
    expect(textOf(followUp!)).toContain('Kept on the ticket: error.txt');
    expect((await db().selectFrom('ticket_attachments').select('name').where('ticket_id', '=', id).execute()).map((f) => f.name)).toEqual([name, 'error.txt']);
  });
});
