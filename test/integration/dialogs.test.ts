import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALOG_VERBS } from '../../src/cards/dialog-cards.js';
import { upsertPerson } from '../../src/store/people.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { adele, alex, cardAction, invoke, megan, personalConversationId, personalMessage, somebody, TENANT_ID, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Dialogs and the people picker through the real endpoint: task/fetch and task/submit shaped like the
 * Teams SDK's fixtures (test/fixtures/teams-activities/invoke-task-*.sdk-fixture.json), and the
 * typeahead's application/search shaped like Microsoft Learn's example request
 * (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search).
 */

const lee: Person = { id: '29:1lee-teams-id', aadObjectId: '00000000-0000-0000-0000-0000000000c3', name: 'Lee Gu' };
const OTHER_TENANT = 'ffffffff-0000-0000-0000-000000000000';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${name}`, import.meta.url), 'utf8'));

describe('dialogs and the people picker (HTTP, auth on, fake channel)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: `${megan.aadObjectId},${lee.aadObjectId}`, ADMIN_IDS: adele.aadObjectId, ALLOWED_TENANT_IDS: TENANT_ID } });
    await h.install(alex, megan, lee, adele);
    // People are known by name once they have used the bot.
    for (const person of [alex, megan, lee, adele]) await h.say(person, 'help');
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;
  const cardOf = (call: ConnectorCall) => call.activity.attachments?.[0]?.content;
  const personId = async (person: Person) => (await db().selectFrom('people').select('id').where('teams_id', '=', person.id).executeTakeFirstOrThrow()).id;
  const ticketRow = (id: number) => db().selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const timeline = (id: number) => db().selectFrom('timeline_entries').select(['kind', 'visibility', 'body', 'author_id']).where('ticket_id', '=', id).orderBy('id').execute();

  /** A dialog invoke as Teams sends it: the SDK fixture, addressed to this service, from `person` in their chat with the bot. */
  function taskInvoke(name: 'task/fetch' | 'task/submit', data: Record<string, unknown>, person: Person) {
    const activity = fixture(name === 'task/fetch' ? 'invoke-task-fetch.sdk-fixture.json' : 'invoke-task-submit.sdk-fixture.json');
    expect(activity).toMatchObject({ type: 'invoke', name, channelId: 'msteams', value: { context: { theme: 'default' } } });
    activity.id = `f:${randomUUID()}`;
    activity.serviceUrl = h.serviceUrl;
    activity.recipient = { id: `28:${h.botAppId}`, name: 'Service Desk' };
    activity.from = { id: person.id, name: person.name, aadObjectId: person.aadObjectId };
    activity.conversation = { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(person) };
    activity.channelData = { tenant: { id: TENANT_ID } };
    activity.value.data = data;
    return activity;
  }

  /** Opens a dialog; returns the dialog (task continue) or the message Teams would show instead. */
  async function fetchDialog(person: Person, data: Record<string, unknown>) {
    const response = await h.post(taskInvoke('task/fetch', data, person));
    expect(response.status).toBe(200);
    return response.body.task as { type: 'continue' | 'message'; value: any };
  }

  /** Submits a dialog; returns the task answer, or undefined when the dialog just closes. */
  async function submitDialog(person: Person, data: Record<string, unknown>) {
    const response = await h.post(taskInvoke('task/submit', data, person));
    expect(response.status).toBe(200);
    return response.body?.task as { type: 'continue' | 'message'; value: any } | undefined;
  }

  /** A dialog's card, checked as Teams would render it. */
  function dialogCard(task: { type: string; value: any } | undefined) {
    expect(task?.type).toBe('continue');
    expect(task!.value.card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = task!.value.card.content;
    expect(schemaErrors(card)).toEqual([]);
    expect(objectModelErrors(card)).toEqual([]);
    return card as { body: Array<Record<string, any>>; actions: Array<Record<string, any>> };
  }
  const textArea = (card: { body: Array<Record<string, any>> }) => card.body.find((e) => e.type === 'Input.Text' && e.id === 'text')!;

  /** The agent's ticket card, as "show" sends it to them, with its dialog buttons. */
  async function agentCard(person: Person, id: number) {
    const card = cardOf(await h.say(person, `show ${id}`));
    const buttons = (card.actions as Array<Record<string, any>>).filter((a) => a.type === 'Action.Submit' && a.data?.msteams?.type === 'task/fetch');
    return { card, dialogButtons: new Map(buttons.map((b) => [b.data.verb as string, b.data as Record<string, unknown>])) };
  }

  async function search(person: Person, queryText: string, dataset = 'agents') {
    const response = await h.post(invoke(h, 'application/search', { queryText, queryOptions: { skip: 0, top: 15 }, dataset }, person));
    expect(response.status).toBe(200);
    expect(response.body.type).toBe('application/vnd.microsoft.search.searchResponse');
    return response.body.value.results as Array<{ title: string; value: string }>;
  }

  describe('dialogs on a ticket', () => {
    it('opens Reply, Note and Resolve from the buttons of the real card, each with a multi-line text area', async () => {
      const { id, reference } = await openTicket(h, alex, 'Laptop fan is loud');
      const { dialogButtons } = await agentCard(megan, id);
      expect([...dialogButtons.keys()]).toEqual([DIALOG_VERBS.reply, DIALOG_VERBS.note, DIALOG_VERBS.resolve]);
      for (const [verb, data] of dialogButtons) {
        const task = await fetchDialog(megan, data);
        expect(task.value.title).toContain(reference);
        const card = dialogCard(task);
        expect(textArea(card)).toMatchObject({ isMultiline: true, isRequired: true });
        expect(card.actions[0]).toMatchObject({ type: 'Action.Submit', data: { verb, ticket: id } });
      }
    });

    it('posts a reply from the dialog, closes it, and updates the posted copies of the card', async () => {
      const { id } = await openTicket(h, alex, 'Printer jams on every page');
      // The requester's copy of the card, posted to his chat by the outbox.
      const [posted] = await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === personalConversationId(alex) && JSON.stringify(cardOf(c) ?? '').includes(`-${id}"`));
      await expect.poll(() => db().selectFrom('card_posts').selectAll().where('ticket_id', '=', id).execute()).toHaveLength(1);
      const reply = 'Line one of the answer.\nLine two: try the manual feed tray.';
      expect(await submitDialog(megan, { verb: DIALOG_VERBS.reply, ticket: id, text: reply })).toBeUndefined();
      expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'reply', visibility: 'public', body: reply, author_id: await personId(megan) });
      expect((await ticketRow(id)).first_response_at).not.toBeNull();
      const [update] = await h.connector.waitFor((c) => c.operation === 'update' && c.activityId === posted!.activityId);
      expect(JSON.stringify(cardOf(update!))).toContain('Line two: try the manual feed tray.');
    });

    it('adds an internal note for agents, and refuses it to the requester whether he opens or submits the dialog', async () => {
      const { id } = await openTicket(h, alex, 'Docking station flickers');
      expect(await submitDialog(lee, { verb: DIALOG_VERBS.note, ticket: id, text: 'Same model as INC-1 last week' })).toBeUndefined();
      expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'note', visibility: 'internal', body: 'Same model as INC-1 last week' });

      const opened = await fetchDialog(alex, { verb: DIALOG_VERBS.note, ticket: id });
      expect(opened).toEqual({ type: 'message', value: 'Internal notes are for agents; use reply to add a comment.' });
      const before = await timeline(id);
      const submitted = await submitDialog(alex, { verb: DIALOG_VERBS.note, ticket: id, text: 'let me add a note' });
      expect(submitted).toEqual({ type: 'message', value: 'Internal notes are for agents; use reply to add a comment.' });
      expect(await timeline(id)).toEqual(before);
      // His own reply is his to write.
      const own = await fetchDialog(alex, { verb: DIALOG_VERBS.reply, ticket: id });
      expect(JSON.stringify(dialogCard(own))).toContain('The agents working on your ticket see your reply.');
      expect(await submitDialog(alex, { verb: DIALOG_VERBS.reply, ticket: id, text: 'It flickers more after lunch' })).toBeUndefined();
      expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'reply', visibility: 'public', author_id: await personId(alex) });
    });

    it('resolves with the note the requester reads, and does not offer to resolve it twice', async () => {
      const { id, reference } = await openTicket(h, alex, 'Cannot print in colour');
      expect(await submitDialog(megan, { verb: DIALOG_VERBS.resolve, ticket: id, text: 'Colour was disabled by policy; enabled it.' })).toBeUndefined();
      expect(await ticketRow(id)).toMatchObject({ status: 'resolved' });
      expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'status', visibility: 'public', body: expect.stringContaining('Colour was disabled by policy; enabled it.') });
      expect(await fetchDialog(megan, { verb: DIALOG_VERBS.resolve, ticket: id })).toEqual({ type: 'message', value: `${reference} can't be set to resolved: it is already resolved.` });
      // A resolve dialog left open meanwhile keeps what was typed and says why.
      const again = dialogCard(await submitDialog(lee, { verb: DIALOG_VERBS.resolve, ticket: id, text: 'my summary' }));
      expect(textArea(again).value).toBe('my summary');
      expect(JSON.stringify(again)).toContain(`${reference} can't be set to resolved: it is already resolved.`);
    });

    it('shows the dialog again with the error, and what was typed, when the text is empty or too long', async () => {
      const { id } = await openTicket(h, alex, 'Headset crackles');
      const before = await timeline(id);
      const empty = dialogCard(await submitDialog(megan, { verb: DIALOG_VERBS.reply, ticket: id, text: '   \n ' }));
      expect(JSON.stringify(empty)).toContain('Nothing was written, so nothing was sent.');
      const long = 'x'.repeat(8_001);
      const tooLong = dialogCard(await submitDialog(megan, { verb: DIALOG_VERBS.note, ticket: id, text: long }));
      expect(JSON.stringify(tooLong)).toContain('That is 8,001 characters; the most a note can hold is 8,000.');
      expect(textArea(tooLong).value).toBe(long);
      const noNote = dialogCard(await submitDialog(megan, { verb: DIALOG_VERBS.resolve, ticket: id }));
      expect(JSON.stringify(noNote)).toContain('Say how it was resolved');
      expect(await timeline(id)).toEqual(before);
      expect(await ticketRow(id)).toMatchObject({ status: 'new' });
    });

    it("tells someone else's requester nothing of the ticket, and changes nothing", async () => {
      const { id } = await openTicket(h, alex, 'Salary slip shows the wrong bank');
      const stranger = somebody('Nosy Colleague');
      await h.say(stranger, 'help');
      const missing = id + 100_000;
      for (const verb of [DIALOG_VERBS.reply, DIALOG_VERBS.note, DIALOG_VERBS.resolve]) {
        const existing = await fetchDialog(stranger, { verb, ticket: id });
        const absent = await fetchDialog(stranger, { verb, ticket: missing });
        expect(existing.type).toBe('message');
        expect(existing.value.replace(String(id), 'N')).toBe(absent.value.replace(String(missing), 'N'));
        expect(JSON.stringify(existing)).not.toContain('Salary');
      }
      const before = await timeline(id);
      expect(await submitDialog(stranger, { verb: DIALOG_VERBS.reply, ticket: id, text: 'let me in' })).toEqual({ type: 'message', value: `You have no ticket #${id}.` });
      expect(await timeline(id)).toEqual(before);
    });

    it('answers a dialog invoke without a verb (the SDK fixture as it is) with a message, not an error', async () => {
      for (const name of ['task/fetch', 'task/submit'] as const) {
        const activity = taskInvoke(name, fixture('invoke-task-fetch.sdk-fixture.json').value.data, megan);
        expect(await h.post(activity)).toMatchObject({ status: 200, body: { task: { type: 'message', value: expect.stringContaining('no longer supported') } } });
      }
    });

    it('refuses people from other tenants at the door, and a tampered or unknown dialog with a message', async () => {
      const { id } = await openTicket(h, alex, 'Webcam is upside down');
      const outsider = taskInvoke('task/submit', { verb: DIALOG_VERBS.reply, ticket: id, text: 'hello' }, somebody('Eve Outsider'));
      outsider.conversation.tenantId = OTHER_TENANT;
      outsider.channelData = { tenant: { id: OTHER_TENANT } };
      expect(await h.post(outsider)).toMatchObject({ status: 403 });
      expect(await submitDialog(megan, { verb: DIALOG_VERBS.reply, ticket: 'INC-1; drop table', text: 'x' })).toEqual({ type: 'message', value: expect.stringContaining("can't use, so nothing was changed") });
      expect(await fetchDialog(megan, { verb: 'dialog.teleport', ticket: id })).toEqual({ type: 'message', value: expect.stringContaining('no longer supported') });
      expect((await timeline(id)).map((e) => e.kind)).toEqual(['created']);
    });
  });

  describe('the new-ticket dialog', () => {
    it('answers "new" with a button that opens the form, with the priorities this person may pick', async () => {
      const prompt = cardOf(await h.say(alex, 'new'));
      const button = (prompt.actions as Array<Record<string, any>>).find((a) => a.data?.msteams?.type === 'task/fetch')!;
      const form = dialogCard(await fetchDialog(alex, button.data));
      const priorities = form.body.find((e) => e.id === 'priority')!.choices.map((c: { value: string }) => c.value);
      expect(priorities).toEqual(['P2', 'P3', 'P4']);
      expect(form.body.find((e) => e.id === 'description')).toMatchObject({ isMultiline: true });
      const agentForm = dialogCard(await fetchDialog(megan, button.data));
      expect(agentForm.body.find((e) => e.id === 'priority')!.choices.map((c: { value: string }) => c.value)).toEqual(['P1', 'P2', 'P3', 'P4']);
    });

    it('creates the ticket, posts its card in the conversation, and closes', async () => {
      const subject = `Need access to the finance share ${randomUUID().slice(0, 6)}`;
      const done = await submitDialog(alex, { verb: DIALOG_VERBS.newTicket, subject, description: 'For the quarter close.\nBy Friday.', type: 'request', priority: 'P1' });
      expect(done).toBeUndefined();
      const row = await db().selectFrom('tickets').selectAll().where('subject', '=', subject).executeTakeFirstOrThrow();
      // A requester asking for P1 gets P2: agents set P1 when they triage, the same rule as "new".
      expect(row).toMatchObject({ type: 'request', priority: 'P2', description: 'For the quarter close.\nBy Friday.', requester_id: await personId(alex), source: 'chat' });
      await h.connector.waitFor((c) => c.operation === 'send' && c.conversationId === personalConversationId(alex) && JSON.stringify(cardOf(c) ?? '').includes(`${row.reference}`));
    });

    it('shows the form again with the problem and what was typed when the subject is missing', async () => {
      const count = async () => (await db().selectFrom('tickets').select('id').execute()).length;
      const before = await count();
      const again = dialogCard(await submitDialog(alex, { verb: DIALOG_VERBS.newTicket, subject: '  ', description: 'It broke after the update', type: 'incident', priority: 'P4' }));
      expect(JSON.stringify(again)).toContain('A ticket needs a subject.');
      expect(again.body.find((e) => e.id === 'description')!.value).toBe('It broke after the update');
      expect(again.body.find((e) => e.id === 'priority')!.value).toBe('P4');
      expect(await count()).toBe(before);
    });
  });

  describe('the people picker', () => {
    it('suggests the agents whose name or email starts with what was typed, and nobody else', async () => {
      expect(await search(megan, 'le')).toEqual([{ title: 'Lee Gu', value: String(await personId(lee)) }]);
      expect((await search(megan, 'BOW')).map((r) => r.title)).toEqual(['Megan Bowen']);
      // Before typing: every agent (admins too), alphabetical; never a requester.
      expect((await search(lee, '')).map((r) => r.title)).toEqual(['Adele Vance', 'Lee Gu', 'Megan Bowen']);
      expect(await search(megan, 'alex')).toEqual([]);
    });

    it('gives people who are not agents no suggestions', async () => {
      expect(await search(alex, '')).toEqual([]);
    });

    it('assigns to the agent picked from the suggestions, and refuses a value that is not an agent', async () => {
      const { id } = await openTicket(h, alex, 'Monitor arm is broken');
      const [picked] = await search(megan, 'lee');
      const response = await h.post(cardAction(h, { verb: 'ticket.assign', data: { ticket: id, assignee: picked!.value }, from: megan }));
      expect(JSON.stringify(response.body)).toContain('is now assigned to Lee Gu');
      expect((await ticketRow(id)).assignee_id).toBe(await personId(lee));
      const tampered = await h.post(cardAction(h, { verb: 'ticket.assign', data: { ticket: id, assignee: String(await personId(alex)) }, from: megan }));
      expect(JSON.stringify(tampered.body)).toContain('That person is not a support agent; nothing was changed');
      expect((await ticketRow(id)).assignee_id).toBe(await personId(lee));
    });

    it('shows agents a picker that asks the bot as they type, with a few agents for clients without typeahead', async () => {
      const { id } = await openTicket(h, alex, 'Keyboard types double letters');
      const { card } = await agentCard(megan, id);
      const assign = (card.actions as Array<Record<string, any>>).find((a) => a.title === 'Assign')!;
      const picker = assign.card.body.find((e: Record<string, any>) => e.id === 'assignee');
      expect(picker['choices.data']).toEqual({ type: 'Data.Query', dataset: 'agents' });
      expect(picker.choices.map((c: { title: string }) => c.title)).toEqual(['Adele Vance', 'Lee Gu', 'Megan Bowen']);
    });
  });
});

describe('the people picker on a large desk', () => {
  let h: Harness;
  const AGENTS = 450;
  const agentIds = Array.from({ length: AGENTS }, (_, i) => `00000000-0000-0000-0001-${String(i).padStart(12, '0')}`);

  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: [megan.aadObjectId, ...agentIds].join(',') } });
    await h.say(megan, 'help');
    const db = h.service.database.db;
    const now = Date.now();
    // Agents as the desk stores them after they used the bot once.
    for (const [i, aad] of agentIds.entries()) {
      await upsertPerson(db, { teamsId: `29:agent-${i}`, aadObjectId: aad, tenantId: TENANT_ID, name: `Agent ${String(i).padStart(3, '0')} ${i % 2 ? 'Nakamura' : 'Okafor'}` }, 'agent', now);
    }
    await upsertPerson(db, { teamsId: '29:agent-7', aadObjectId: agentIds[7]!, tenantId: TENANT_ID, name: 'Agent 007 Nakamura', email: 'hana.nakamura@contoso.example' }, undefined, now);
    // Someone stored as an agent who is no longer one (not in AGENT_IDS).
    await upsertPerson(db, { teamsId: '29:former-agent', aadObjectId: '00000000-0000-0000-0002-000000000001', tenantId: TENANT_ID, name: 'Agent Former' }, 'agent', now);
  });
  afterAll(() => h.stop());

  async function timedSearch(queryText: string) {
    const started = performance.now();
    const response = await h.post(invoke(h, 'application/search', { queryText, queryOptions: { skip: 0, top: 15 }, dataset: 'agents' }, megan));
    const ms = performance.now() - started;
    expect(response.status).toBe(200);
    return { ms, results: response.body.value.results as Array<{ title: string; value: string }> };
  }

  it('answers at most 15 agents, never a former one, by name words or email', async () => {
    const first = await timedSearch('agent');
    expect(first.results).toHaveLength(15);
    expect(first.results.map((r) => r.title)).not.toContain('Agent Former');
    expect((await timedSearch('okafor')).results.every((r) => r.title.endsWith('Okafor'))).toBe(true);
    // By email too; the address tells two people of the same name apart.
    expect((await timedSearch('hana.')).results).toEqual([{ title: 'Agent 007 Nakamura (hana.nakamura@contoso.example)', value: expect.any(String) }]);
    expect((await timedSearch('agent 44')).results.map((r) => r.title)).toEqual(['Agent 440 Okafor', 'Agent 441 Nakamura', 'Agent 442 Okafor', 'Agent 443 Nakamura', 'Agent 444 Okafor', 'Agent 445 Nakamura', 'Agent 446 Okafor', 'Agent 447 Nakamura', 'Agent 448 Okafor', 'Agent 449 Nakamura']);
  });
});
