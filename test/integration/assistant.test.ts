import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ASSISTANT_VERBS, SUGGESTION_LABEL } from '../../src/cards/assistant-cards.js';
import { DIALOG_VERBS } from '../../src/cards/dialog-cards.js';
import { OpenAiCompatibleClient } from '../../src/integrations/ai/openai-compatible.js';
import { createLogger } from '../../src/logger.js';
import { Assistant, BUDGET_SPENT } from '../../src/services/assistant.js';
import { SYSTEM_ACTOR } from '../../src/services/ticket-change.js';
import { listAssistantCalls } from '../../src/store/assistant.js';
import type { ConnectorCall } from '../fakes/connector.js';
import { FakeOpenAi } from '../fakes/openai.js';
import { alex, cardAction, megan, personalConversationId, TENANT_ID, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket, testClock } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The optional AI assistant through the real endpoint, with auth on, against a loopback
 * OpenAI-compatible fake that records every prompt: Summary, Suggest reply, triage, what reaches the
 * model (no email address, no phone number, no internal note unless allowed), the daily budget, a slow
 * or failing endpoint (the invoke still answers well within Teams' 5 s), and the audit rows.
 */

const API_KEY = 'sk-test-assistant-key-0123456789';
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${name}`, import.meta.url), 'utf8'));

describe('the AI assistant (HTTP, auth on, fake OpenAI-compatible endpoint)', () => {
  let h: Harness;
  let ai: FakeOpenAi;
  // Budget days are UTC days of the desk's clock: a clock of the test's own, so no test depends on today's date.
  const clock = testClock('2026-03-10T09:00:00Z');

  beforeAll(async () => {
    ai = await new FakeOpenAi().start();
    h = await startHarness({
      env: { AGENT_IDS: megan.aadObjectId, ALLOWED_TENANT_IDS: TENANT_ID, AI_ENDPOINT: ai.endpoint, AI_API_KEY: API_KEY, AI_MODEL: 'desk-model', AI_DAILY_TOKEN_BUDGET: '100000' },
      service: { clock: clock.now },
    });
    await h.install(alex, megan);
    for (const person of [alex, megan]) await h.say(person, 'help');
  });
  afterAll(async () => {
    await h.stop();
    await ai.stop();
  });
  beforeEach(() => {
    clock.reset();
    ai.script.length = 0;
    ai.delayMs = 0;
  });

  const db = () => h.service.database.db;
  const cardOf = (call: ConnectorCall) => call.activity.attachments?.[0]?.content;
  const personId = async (person: Person) => (await db().selectFrom('people').select('id').where('teams_id', '=', person.id).executeTakeFirstOrThrow()).id;
  const timeline = (id: number) => db().selectFrom('timeline_entries').select(['kind', 'visibility', 'body']).where('ticket_id', '=', id).orderBy('id').execute();
  const callsOf = async (ticketId: number) => (await listAssistantCalls(db())).filter((c) => c.ticketId === ticketId);

  async function press(person: Person, verb: string, data: Record<string, unknown>) {
    const started = performance.now();
    const activity = cardAction(h, { verb, data, from: person });
    const response = await h.post(activity);
    expect(response.status).toBe(200);
    return { card: response.body.value as Record<string, any>, ms: performance.now() - started, activityId: activity.id as string };
  }

  function taskInvoke(name: 'task/fetch' | 'task/submit', data: Record<string, unknown>, person: Person) {
    const activity = fixture(name === 'task/fetch' ? 'invoke-task-fetch.sdk-fixture.json' : 'invoke-task-submit.sdk-fixture.json');
    activity.id = `f:${randomUUID()}`;
    activity.serviceUrl = h.serviceUrl;
    activity.recipient = { id: `28:${h.botAppId}`, name: 'Service Desk' };
    activity.from = { id: person.id, name: person.name, aadObjectId: person.aadObjectId };
    activity.conversation = { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(person) };
    activity.channelData = { tenant: { id: TENANT_ID } };
    activity.value.data = data;
    return activity;
  }
  async function dialog(name: 'task/fetch' | 'task/submit', person: Person, data: Record<string, unknown>) {
    const started = performance.now();
    const response = await h.post(taskInvoke(name, data, person));
    expect(response.status).toBe(200);
    return { task: response.body?.task as { type: 'continue' | 'message'; value: any } | undefined, ms: performance.now() - started };
  }

  /** The agent's ticket card as "show" sends it. */
  const agentCard = async (id: number) => cardOf(await h.say(megan, `show ${id}`)) as Record<string, any>;
  const moreMenu = (card: Record<string, any>) => (card.actions as Array<Record<string, any>>).find((a) => a.title === 'More')!.card;

  /** A ticket whose triage the fake has answered and the desk has stored (triage runs after the ticket opens). */
  async function openTriaged(subject: string) {
    const opened = await openTicket(h, alex, subject);
    await expect.poll(() => db().selectFrom('assistant_suggestions').selectAll().where('ticket_id', '=', opened.id).executeTakeFirst()).toBeTruthy();
    return opened;
  }

  it('sends the chat completion the API expects: JSON mode, the model, the key as a bearer token', async () => {
    const { id } = await openTriaged('Teams calls drop after a minute');
    const prompt = ai.prompts.find((p) => p.text.includes('Teams calls drop after a minute'))!;
    expect(prompt.path).toBe('/v1/chat/completions');
    expect(prompt.body).toMatchObject({ model: 'desk-model', response_format: { type: 'json_object' } });
    expect(prompt.body.messages!.map((m) => m.role)).toEqual(['system', 'user']);
    expect(prompt.headers.authorization).toBe(`Bearer ${API_KEY}`);
    // The key is never written to the logs.
    expect(h.logs.raw.join('\n')).not.toContain(API_KEY);
    expect((await callsOf(id)).map((c) => c.feature)).toEqual(['triage']);
  });

  it('summarises the thread as its own card, labelled, without email addresses, phone numbers or internal notes', async () => {
    const { id, reference } = await openTriaged('VPN drops every ten minutes');
    await h.say(alex, `reply ${reference} It happens at home too. Write to me at alex.private@fabrikam.example or call +44 20 7946 0958`);
    await h.say(megan, `note ${reference} Suspect the split-tunnel policy pushed on Monday`);
    ai.script.push({ content: { lines: ['VPN drops every ten minutes, also at home.', 'The requester gave contact details.', 'No fix yet.'] }, usage: { prompt: 321, completion: 45 } });

    const pressed = await press(megan, ASSISTANT_VERBS.summary, { ticket: id });
    // The ticket card stays in place; the summary arrives as a card of its own in the same chat.
    expect(JSON.stringify(pressed.card)).toContain(reference);
    const [posted] = await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && JSON.stringify(cardOf(c) ?? '').includes(`Summary · ${reference}`));
    const summary = cardOf(posted!);
    expect(schemaErrors(summary)).toEqual([]);
    expect(objectModelErrors(summary)).toEqual([]);
    const text = JSON.stringify(summary);
    expect(text).toContain(SUGGESTION_LABEL);
    expect(text).toContain('VPN drops every ten minutes, also at home.');

    const prompt = ai.prompts.at(-1)!;
    expect(prompt.text).toContain('It happens at home too');
    expect(prompt.text).not.toContain('alex.private@fabrikam.example');
    expect(prompt.text).not.toContain('7946 0958');
    expect(prompt.text).toContain('[email]');
    expect(prompt.text).not.toContain('split-tunnel');

    const [audit] = (await callsOf(id)).filter((c) => c.feature === 'summary');
    expect(audit).toMatchObject({ personId: await personId(megan), ticketId: id, model: 'desk-model', promptTokens: 321, completionTokens: 45, outcome: 'ok' });
    // The audit table has no column for text.
    const columns = Object.keys((await db().selectFrom('assistant_calls').selectAll().executeTakeFirstOrThrow()) as object);
    expect(columns.sort()).toEqual(['at', 'completion_tokens', 'feature', 'id', 'model', 'ms', 'outcome', 'person_id', 'prompt_tokens', 'ticket_id']);
  });

  it('offers Summary and Suggest reply in the More menu of the agent card only, keeping six buttons', async () => {
    const { id } = await openTriaged('Shared drive is read-only');
    const card = await agentCard(id);
    expect(schemaErrors(card)).toEqual([]);
    expect((card.actions as unknown[]).length).toBeLessThanOrEqual(6);
    const menu = JSON.stringify(moreMenu(card));
    expect(menu).toContain(ASSISTANT_VERBS.summary);
    expect(menu).toContain(ASSISTANT_VERBS.reply);
    // The requester's copy offers nothing of the assistant.
    const requesterCard = cardOf(await h.say(alex, `show ${id}`));
    expect(JSON.stringify(requesterCard)).not.toContain('assistant.');
    expect(JSON.stringify(requesterCard)).not.toContain(SUGGESTION_LABEL);
    // A requester pressing the button anyway (a tampered card) gets nothing from the model.
    const before = ai.prompts.length;
    const refused = await press(alex, ASSISTANT_VERBS.summary, { ticket: id });
    expect(JSON.stringify(refused.card)).toContain('The assistant is for support agents');
    expect(ai.prompts.length).toBe(before);
  });

  it('suggests a reply in an editable dialog and sends nothing until the agent presses Send reply', async () => {
    const { id, reference } = await openTriaged('Laptop will not charge');
    const before = await timeline(id);
    const opened = await dialog('task/fetch', megan, { verb: ASSISTANT_VERBS.reply, ticket: id });
    expect(opened.task?.type).toBe('continue');
    const card = opened.task!.value.card.content;
    expect(schemaErrors(card)).toEqual([]);
    expect(JSON.stringify(card)).toContain(SUGGESTION_LABEL);
    const area = (card.body as Array<Record<string, any>>).find((e) => e.type === 'Input.Text' && e.id === 'text')!;
    expect(area).toMatchObject({ isMultiline: true, value: 'Hello, thanks for the details. Could you tell us which VPN client version you use?' });
    expect(card.actions[0]).toMatchObject({ type: 'Action.Submit', data: { verb: DIALOG_VERBS.reply, ticket: id } });
    // Opening the dialog sent nothing to anyone.
    expect(await timeline(id)).toEqual(before);
    expect(h.connector.calls.filter((c) => c.conversationId === personalConversationId(alex) && JSON.stringify(c.activity).includes('VPN client version'))).toEqual([]);

    const edited = 'Hello Alex, which charger model is it? A photo of its label helps.';
    const sent = await dialog('task/submit', megan, { verb: DIALOG_VERBS.reply, ticket: id, text: edited });
    expect(sent.task).toBeUndefined();
    expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'reply', visibility: 'public', body: edited });
    expect(JSON.stringify(await agentCard(id))).toContain(reference);
  });

  it('shows the triage suggestion on the agent card and applies it only when an agent accepts', async () => {
    ai.script.push({ content: { type: 'request', priority: 'P2', team: null, reason: 'A new starter needs access.' } });
    const { id } = await openTriaged('Access to the finance share for a new starter');
    const before = await db().selectFrom('tickets').select(['type', 'priority', 'reference']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(before).toMatchObject({ type: 'incident', priority: 'P3' });
    const card = await agentCard(id);
    const text = JSON.stringify(card);
    expect(text).toContain(SUGGESTION_LABEL);
    expect(text).toContain('Type: request');
    expect(text).toContain(ASSISTANT_VERBS.accept);
    // Shown is not applied.
    expect(await db().selectFrom('tickets').select(['type', 'priority']).where('id', '=', id).executeTakeFirstOrThrow()).toMatchObject({ type: 'incident', priority: 'P3' });

    const accepted = await press(megan, ASSISTANT_VERBS.accept, { ticket: id });
    expect(JSON.stringify(accepted.card)).toContain('Triage applied');
    expect(JSON.stringify(accepted.card)).not.toContain(ASSISTANT_VERBS.accept);
    const after = await db().selectFrom('tickets').select(['type', 'priority', 'reference']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ type: 'request', priority: 'P2', reference: `REQ-${id}` });
    // Recorded as the priority change it is (rules that follow priority changes see it), saying whose suggestion it was.
    expect((await timeline(id)).at(-1)).toMatchObject({ kind: 'priority', visibility: 'internal', body: "Megan Bowen accepted the assistant's triage: request, P2" });
    // Pressed again (an old copy of the card): nothing more happens.
    const again = await press(megan, ASSISTANT_VERBS.accept, { ticket: id });
    expect(JSON.stringify(again.card)).toContain('no triage suggestion waiting');
  });

  it('dismisses a triage suggestion without changing the ticket', async () => {
    const { id } = await openTriaged('Mouse double-clicks');
    const dismissed = await press(megan, ASSISTANT_VERBS.dismiss, { ticket: id });
    expect(JSON.stringify(dismissed.card)).toContain('dismissed');
    expect(JSON.stringify(await agentCard(id))).not.toContain(SUGGESTION_LABEL);
    expect(await db().selectFrom('tickets').select(['type', 'priority']).where('id', '=', id).executeTakeFirstOrThrow()).toMatchObject({ type: 'incident', priority: 'P3' });
    expect(await db().selectFrom('assistant_suggestions').select('state').where('ticket_id', '=', id).executeTakeFirstOrThrow()).toEqual({ state: 'dismissed' });
    // A requester cannot accept what the agents dismissed, nor anything else.
    const tampered = await press(alex, ASSISTANT_VERBS.accept, { ticket: id });
    expect(JSON.stringify(tampered.card)).toContain('The assistant is for support agents');
  });

  it('answers within Teams’ 5 seconds without the assistant when the endpoint takes 10 s', async () => {
    const { id } = await openTriaged('Projector in room 4 flickers');
    ai.delayMs = 10_000;
    const summary = await press(megan, ASSISTANT_VERBS.summary, { ticket: id });
    expect(summary.ms).toBeLessThan(5_000);
    expect(JSON.stringify(summary.card)).toContain('The assistant did not answer in time');
    const reply = await dialog('task/fetch', megan, { verb: ASSISTANT_VERBS.reply, ticket: id });
    expect(reply.ms).toBeLessThan(5_000);
    // The dialog still opens, without a draft, for the agent to write in.
    const card = reply.task!.value.card.content;
    const area = (card.body as Array<Record<string, any>>).find((e) => e.type === 'Input.Text' && e.id === 'text')!;
    expect(area.value).toBeUndefined();
    expect(JSON.stringify(card)).toContain('did not answer in time');
    expect(JSON.stringify(card)).not.toContain(SUGGESTION_LABEL);
    expect((await callsOf(id)).filter((c) => c.outcome === 'timeout').map((c) => c.feature)).toEqual(['summary', 'reply']);
  });

  it('says there is no suggestion when the endpoint fails or answers garbage, and audits each', async () => {
    const { id } = await openTriaged('Outlook search finds nothing');
    ai.script.push({ status: 500 });
    expect(JSON.stringify((await press(megan, ASSISTANT_VERBS.summary, { ticket: id })).card)).toContain('The assistant is unavailable right now');
    ai.script.push({ content: 'Sure! Here is your summary: everything is fine.', raw: true });
    expect(JSON.stringify((await press(megan, ASSISTANT_VERBS.summary, { ticket: id })).card)).toContain('The assistant gave no usable answer');
    ai.script.push({ content: { lines: 'not a list' } });
    expect(JSON.stringify((await press(megan, ASSISTANT_VERBS.summary, { ticket: id })).card)).toContain('The assistant gave no usable answer');
    ai.script.push({ status: 401 });
    expect(JSON.stringify((await press(megan, ASSISTANT_VERBS.summary, { ticket: id })).card)).toContain('The assistant is unavailable right now');
    expect((await callsOf(id)).filter((c) => c.feature === 'summary').map((c) => c.outcome)).toEqual(['unavailable', 'invalid', 'invalid', 'refused']);
  });

  it('stops for the day when the token budget is spent, for every replica alike, and starts again the next UTC day', async () => {
    clock.set('2026-03-11T12:00:00Z');
    const { id } = await openTriaged('Badge reader at the side door');
    const budget = h.config.ai!.dailyTokenBudget;
    await db().insertInto('assistant_budget').values({ day: '2026-03-11', tokens: budget }).onConflict((oc) => oc.column('day').doUpdateSet({ tokens: budget })).execute();
    const before = ai.prompts.length;
    const refused = await press(megan, ASSISTANT_VERBS.summary, { ticket: id });
    expect(JSON.stringify(refused.card)).toContain(BUDGET_SPENT);
    const dialogAnswer = await dialog('task/fetch', megan, { verb: ASSISTANT_VERBS.reply, ticket: id });
    expect(JSON.stringify(dialogAnswer.task)).toContain(BUDGET_SPENT);
    expect(ai.prompts.length).toBe(before);
    expect((await callsOf(id)).filter((c) => c.outcome === 'budget').map((c) => c.feature)).toEqual(['summary', 'reply']);

    clock.set('2026-03-12T00:00:01Z');
    const next = await press(megan, ASSISTANT_VERBS.summary, { ticket: id });
    expect(JSON.stringify(next.card)).not.toContain(BUDGET_SPENT);
    expect(ai.prompts.length).toBe(before + 1);
    expect(Number((await db().selectFrom('assistant_budget').select('tokens').where('day', '=', '2026-03-12').executeTakeFirstOrThrow()).tokens)).toBe(150);
  });

  it('reads a requester’s free text into intent and fields, redacted, or gives up (undefined) when it cannot', async () => {
    const assistant = h.service.assistant!;
    ai.script.push({ content: { intent: 'status', priority: null, service: 'VPN' } });
    expect(await assistant.readRequest('any news on my vpn ticket? reach me at alex@contoso.com', { actor: SYSTEM_ACTOR, openTickets: [{ reference: 'INC-7', subject: 'VPN drops' }] })).toEqual({ intent: 'status', fields: { service: 'VPN' } });
    expect(ai.prompts.at(-1)!.text).not.toContain('alex@contoso.com');
    expect(ai.prompts.at(-1)!.text).toContain('INC-7: VPN drops');
    ai.script.push({ content: { intent: 'new', priority: 'P1', service: 'Email' } });
    expect(await assistant.readRequest('nobody on the floor can send email!!', { actor: SYSTEM_ACTOR })).toEqual({ intent: 'new', fields: { priority: 'P1', service: 'Email' } });
    ai.script.push({ status: 503 });
    expect(await assistant.readRequest('hello?', { actor: SYSTEM_ACTOR })).toBeUndefined();
    ai.script.push({ content: { intent: 'order pizza' } });
    expect(await assistant.readRequest('hello?', { actor: SYSTEM_ACTOR })).toBeUndefined();
  });

  it('settles a requester’s free text the rules cannot place: offered as a new request instead of “which ticket?”', async () => {
    // A day of its own: another test spends a whole day's token budget.
    clock.set('2026-03-14T09:00:00Z');
    const alexRow = await db().selectFrom('people').selectAll().where('teams_id', '=', alex.id).executeTakeFirstOrThrow();
    const requester = { person: { id: alexRow.id, teamsId: alex.id, aadObjectId: alex.aadObjectId, tenantId: TENANT_ID, name: alex.name, email: null, role: 'requester' as const, timeZone: null, quiet: null }, role: 'requester' as const };
    // Opened outside the chat, so the chat has no ticket in focus; its triage call is let through first.
    const triaged = ai.nextRequest();
    const opened = await h.service.tickets.create({ actor: requester, surface: 'chat' }, { type: 'incident', subject: 'Laptop battery swells', description: '', priority: 'P3', teamId: null, source: 'chat', postTo: [] });
    expect(opened.ok).toBe(true);
    await triaged;
    ai.script.push({ content: { intent: 'new', priority: null, service: 'Projector' } });
    const asked = ai.nextRequest();
    const reply = await h.say(alex, 'the projector in room 4 flickers since this morning');
    expect((await asked).text).toContain('projector in room 4');
    expect(reply.activity.summary).toBe('Open a ticket with this?');
    // When the assistant cannot tell either, the person is asked which ticket it belongs to.
    ai.script.push({ content: { intent: 'unsure', priority: null, service: null } });
    const again = await h.say(alex, 'the projector in room 5 flickers too');
    expect(again.activity.summary).toBe('Is this about one of your open tickets?');
  });

  it('sends internal notes to the model only when AI_INCLUDE_INTERNAL_NOTES=true', async () => {
    const { id, reference } = await openTriaged('Docking station loses the second screen');
    await h.say(megan, `note ${reference} Firmware 1.2 known bad, see vendor advisory`);
    const including = new Assistant({
      db: db(),
      client: new OpenAiCompatibleClient({ endpoint: ai.endpoint, apiKey: API_KEY, model: 'desk-model', auth: 'bearer' }, 3_000),
      config: { ...h.config.ai!, includeInternalNotes: true },
      tickets: h.service.tickets,
      logger: createLogger('silent'),
      clock: clock.now,
    });
    const agent = { person: { id: await personId(megan), teamsId: megan.id, aadObjectId: megan.aadObjectId, tenantId: TENANT_ID, name: megan.name, email: null, role: 'agent' as const, timeZone: null, quiet: null }, role: 'agent' as const };
    expect((await including.summary(agent, id)).ok).toBe(true);
    expect(ai.prompts.at(-1)!.text).toContain('Firmware 1.2 known bad');
    expect(ai.prompts.at(-1)!.text).toContain('(internal note)');
  });
});

describe('the AI assistant when it is off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { AGENT_IDS: megan.aadObjectId, ALLOWED_TENANT_IDS: TENANT_ID } });
    await h.install(alex, megan);
    for (const person of [alex, megan]) await h.say(person, 'help');
  });
  afterAll(() => h.stop());

  it('shows none of its actions or labels, and a stale button says it is off', async () => {
    const { id } = await openTicket(h, alex, 'Webcam is upside down');
    const card = (await h.say(megan, `show ${id}`)).activity.attachments?.[0]?.content;
    const text = JSON.stringify(card);
    expect(text).not.toContain('assistant.');
    expect(text).not.toContain(SUGGESTION_LABEL);
    expect(h.service.assistant).toBeUndefined();
    const response = await h.post(cardAction(h, { verb: ASSISTANT_VERBS.summary, data: { ticket: id }, from: megan }));
    expect(JSON.stringify(response.body)).toContain('The AI assistant is not turned on');
    expect(await h.service.database.db.selectFrom('assistant_calls').selectAll().execute()).toEqual([]);
  });
});
