import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALOG_VERBS } from '../../src/cards/dialog-cards.js';
import { parseNotifyConfig } from '../../src/notify-config.js';
import { runDoctor } from '../../scripts/lib/doctor.js';
import { FakeJira, JIRA_STATUSES } from '../fakes/jira.js';
import { FakeLinear, LINEAR_STATES } from '../fakes/linear.js';
import { alex, megan, personalConversationId, TENANT_ID, type Person } from '../support/activities.js';
import { objectModelErrors, schemaErrors } from '../support/card-schema.js';
import { openTicket } from '../support/factories.js';
import { startHarness, type Harness } from '../support/harness.js';

// Engineering issue links end to end: the real service against loopback fakes of Linear's GraphQL API
// and Jira Cloud's REST v3, which check credentials and send webhooks signed the way the vendors do.
// Agents link and create issues by typed commands and the card's dialog; a state change in the tracker
// comes back by webhook (or the poller) to every ticket linking the issue, through the status map of the
// rules file; comments are carried without coming back.

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/teams-activities/${name}`, import.meta.url), 'utf8'));

async function startDesk(comments: 'both' | 'to-ticket', linear: FakeLinear, jira: FakeJira): Promise<Harness> {
  const rules = parseNotifyConfig(
    `trackers:
  statusMap:
    done: [pending, notify-assignee, reply: "A fix for {issue} has shipped; please check it works for you."]
    canceled: [notify-assignee]
  comments: ${comments}
`,
    'notify.yaml',
    {},
  );
  if (!rules.ok) throw new Error(rules.problems.join('\n'));
  return startHarness({
    env: {
      AGENT_IDS: megan.aadObjectId,
      LINEAR_API_KEY: linear.apiKey,
      LINEAR_API_URL: linear.apiUrl,
      LINEAR_WEBHOOK_SECRET: linear.webhookSecret,
      JIRA_BASE_URL: jira.baseUrl,
      JIRA_EMAIL: jira.email,
      JIRA_API_TOKEN: jira.apiToken,
      JIRA_WEBHOOK_SECRET: jira.webhookSecret,
    },
    service: { notify: rules.config, trackers: { backoff: { baseMs: 10, capMs: 50, jitter: 0 } } },
  });
}

function helpers(get: () => Harness) {
  const db = () => get().service.database.db;
  return {
    db,
    say: async (person: Person, text: string) => JSON.stringify((await get().say(person, text)).activity),
    ticket: (id: number) => db().selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    timeline: (id: number) => db().selectFrom('timeline_entries').select(['kind', 'visibility', 'body']).where('ticket_id', '=', id).orderBy('id').execute(),
    links: (id: number) => db().selectFrom('issue_links').select(['tracker', 'issue_key']).where('ticket_id', '=', id).execute(),
    webhookUrl: (tracker: 'linear' | 'jira') => `${get().service.url}/api/webhooks/${tracker}`,
    issuesOf: (id: number) => get().service.issues!.links.issuesOf(id),
  };
}

describe('issue links (Linear and Jira fakes, comments both ways)', () => {
  let h: Harness;
  let linear: FakeLinear;
  let jira: FakeJira;
  const { say, ticket, timeline, links, webhookUrl, db, issuesOf } = helpers(() => h);

  beforeAll(async () => {
    linear = await new FakeLinear().start();
    jira = await new FakeJira().start();
    h = await startDesk('both', linear, jira);
    await h.install(alex, megan);
  });
  afterAll(async () => {
    await h?.stop();
    await linear.stop();
    await jira.stop();
  });

  it('links an issue by key and by URL, and the agents’ card shows each with its state', async () => {
    const issue = linear.addIssue('Export to CSV times out', LINEAR_STATES.inProgress);
    const bug = jira.addIssue('SSO login loops');
    const t = await openTicket(h, megan, 'CSV export fails for our team');

    // Both trackers are connected: a bare key is ambiguous, so the agent is asked which.
    expect(await say(megan, `link ${t.reference} ${issue.identifier}`)).toContain(`linear:${issue.identifier}`);
    expect(await links(t.id)).toEqual([]);

    expect(await say(megan, `link ${t.reference} linear:${issue.identifier}`)).toContain(`now links Linear ${issue.identifier} (In Progress)`);
    expect(await say(megan, `link ${t.reference} ${jira.baseUrl}/browse/${bug.key}`)).toContain(`now links Jira ${bug.key} (To Do)`);
    expect(await say(megan, `link ${t.reference} ${issue.url}`)).toContain('already links');
    expect(await links(t.id)).toEqual(expect.arrayContaining([{ tracker: 'linear', issue_key: issue.identifier }, { tracker: 'jira', issue_key: bug.key }]));
    // Both adapters authenticated as the vendors require.
    expect(linear.requests.every((r) => r.authorized)).toBe(true);
    expect(jira.requests.some((r) => r.path === `/rest/api/3/issue/${bug.key}?fields=status,summary,updated` && r.authorized)).toBe(true);

    const card = (await h.say(megan, `issues ${t.reference}`)).activity.attachments![0]!.content as Record<string, any>;
    const text = JSON.stringify(card);
    expect(text).toContain('Linked issues');
    expect(text).toContain(`Linear ${issue.identifier}`);
    expect(text).toContain('In Progress');
    expect(text).toContain(`Jira ${bug.key}`);
    expect(text).toContain(issue.url);
    expect(schemaErrors(card)).toEqual([]);

    expect(await say(megan, `link ${t.reference} linear:ENG-99999`)).toContain('Linear has no issue ENG-99999');
    const health = await h.service.health.report({ fresh: true });
    expect(health.checks.linear?.status).toBe('ok');
    expect(health.checks.jira?.status).toBe('ok');
  });

  it('refuses requesters by their rights, without asking the tracker', async () => {
    const issue = linear.addIssue('Some bug');
    const t = await openTicket(h, alex, 'My laptop is slow');
    const before = linear.requests.length;
    expect(await say(alex, `link ${t.reference} linear:${issue.identifier}`)).toContain('Only support agents can do that');
    expect(linear.requests.length).toBe(before);
    expect(await links(t.id)).toEqual([]);
  });

  it('a Done webhook moves EVERY linked ticket to pending, replies publicly and tells the assignee, per the status map', async () => {
    const issue = linear.addIssue('Invoices show the wrong VAT', LINEAR_STATES.inProgress);
    const first = await openTicket(h, alex, 'VAT is wrong on my invoice');
    const second = await openTicket(h, alex, 'Invoice total does not add up');
    for (const t of [first, second]) {
      await say(megan, `take ${t.reference}`);
      await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    }

    linear.setState(issue.identifier, LINEAR_STATES.done);
    const cardUpdated = h.connector.waitFor((c) => c.operation === 'update' && JSON.stringify(c.activity).includes('Pending'), { count: 2 });
    const answer = await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier));
    expect(answer.status).toBe(200);

    for (const t of [first, second]) {
      expect((await ticket(t.id)).status).toBe('pending');
      const entries = await timeline(t.id);
      // Recorded as the status change it is (rules and integrations hear ticket.status_changed).
      expect(entries).toContainEqual({ kind: 'status', visibility: 'internal', body: `Linear ${issue.identifier} moved In Progress → Done; ticket set to pending` });
      expect(entries).toContainEqual({ kind: 'reply', visibility: 'public', body: `A fix for ${issue.identifier} has shipped; please check it works for you.` });
      const told = await db().selectFrom('outbox').select('idempotency_key').where('ticket_id', '=', t.id).where('idempotency_key', 'like', `%issue-${issue.identifier}%`).execute();
      expect(told).toHaveLength(1);
    }
    // The posted cards (the requester's copies) are refreshed in place.
    await cardUpdated;

    // The same state again (a retried delivery under a new id, or the poller): nothing more happens.
    const count = (await timeline(first.id)).length;
    expect((await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier))).status).toBe(200);
    expect(await timeline(first.id)).toHaveLength(count);
  });

  it('an older view of an issue never undoes a newer one: a late retry is ignored and the status map runs once', async () => {
    const issue = linear.addIssue('Times shown an hour off', LINEAR_STATES.inProgress);
    const t = await openTicket(h, alex, 'My times are off by an hour');
    await say(megan, `take ${t.reference}`);
    await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    linear.setState(issue.identifier, LINEAR_STATES.todo);
    const older = linear.issueUpdatedPayload(issue.identifier); // its delivery fails and is retried late
    linear.setState(issue.identifier, LINEAR_STATES.done);
    expect((await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier))).status).toBe(200);
    expect((await ticket(t.id)).status).toBe('pending');

    expect((await linear.send(webhookUrl('linear'), older)).status).toBe(200);
    await h.service.issues!.poller.pollOnce();
    const entries = await timeline(t.id);
    expect(entries.filter((e) => e.body.includes(`Linear ${issue.identifier} moved`)).map((e) => e.body)).toEqual([`Linear ${issue.identifier} moved In Progress → Done; ticket set to pending`]);
    expect(entries.filter((e) => e.kind === 'reply' && e.body.includes(issue.identifier))).toHaveLength(1);
    expect(await issuesOf(t.id)).toEqual([expect.objectContaining({ state: 'Done' })]);
  });

  it('linking one more ticket to an issue that moved unannounced tells the tickets already linking it', async () => {
    const issue = linear.addIssue('Bulk edit drops tags', LINEAR_STATES.inProgress);
    const first = await openTicket(h, alex, 'My tags vanish after a bulk edit');
    await say(megan, `take ${first.reference}`);
    await say(megan, `link ${first.reference} linear:${issue.identifier}`);
    linear.setState(issue.identifier, LINEAR_STATES.done); // no webhook or poll yet
    const second = await openTicket(h, alex, 'Tags lost');
    expect(await say(megan, `link ${second.reference} linear:${issue.identifier}`)).toContain(`now links Linear ${issue.identifier} (Done)`);
    expect((await ticket(first.id)).status).toBe('pending');
    expect(await timeline(first.id)).toContainEqual({ kind: 'status', visibility: 'internal', body: `Linear ${issue.identifier} moved In Progress → Done; ticket set to pending` });
    expect(await timeline(first.id)).toContainEqual({ kind: 'reply', visibility: 'public', body: `A fix for ${issue.identifier} has shipped; please check it works for you.` });
    // The ticket linked at Done heard of no move: it was never told otherwise.
    expect((await timeline(second.id)).filter((e) => e.body.includes('moved'))).toEqual([]);
  });

  it('refuses a webhook with a bad signature or a stale timestamp, and applies a replayed delivery only once', async () => {
    const issue = linear.addIssue('Search is slow');
    const t = await openTicket(h, megan, 'Search takes a minute');
    await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    linear.setState(issue.identifier, LINEAR_STATES.done);
    const entries = (await timeline(t.id)).length;

    expect((await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier), { signature: null })).status).toBe(401);
    const stale = await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier, Date.now() - 5 * 60_000));
    expect(stale).toMatchObject({ status: 401, body: { error: expect.stringContaining('webhookTimestamp') } });
    expect(await timeline(t.id)).toHaveLength(entries);

    const raw = linear.issueUpdatedPayload(issue.identifier);
    const delivery = randomUUID();
    expect(await linear.send(webhookUrl('linear'), raw, { delivery })).toEqual({ status: 200, body: { ok: true } });
    // The tracker's retry of it, and the same signed body under a new (unsigned) delivery header: known, not applied again.
    expect(await linear.send(webhookUrl('linear'), raw, { delivery })).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect(await linear.send(webhookUrl('linear'), raw, { delivery: randomUUID() })).toEqual({ status: 200, body: { ok: true, duplicate: true } });

    const bug = jira.addIssue('Reports export blank');
    await say(megan, `link ${t.reference} jira:${bug.key}`);
    jira.setStatus(bug.key, JIRA_STATUSES.inProgress);
    const jiraRaw = jira.issueUpdatedPayload(bug.key);
    expect((await jira.send(webhookUrl('jira'), jiraRaw, { secret: 'wrong' })).status).toBe(401);
    expect((await jira.send(webhookUrl('jira'), jiraRaw, { signature: `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    // Jira's body timestamp is signed: a body without one, or dated ahead of our clock, is refused.
    const untimed = JSON.stringify({ ...JSON.parse(jiraRaw), timestamp: undefined });
    expect(await jira.send(webhookUrl('jira'), untimed)).toMatchObject({ status: 401, body: { error: expect.stringContaining('no timestamp') } });
    expect(await jira.send(webhookUrl('jira'), jira.issueUpdatedPayload(bug.key, Date.now() + 10 * 60_000))).toMatchObject({ status: 401, body: { error: expect.stringContaining('future') } });
    const identifier = randomUUID();
    expect(await jira.send(webhookUrl('jira'), jiraRaw, { identifier })).toEqual({ status: 200, body: { ok: true } });
    expect(await jira.send(webhookUrl('jira'), jiraRaw, { identifier })).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect(await jira.send(webhookUrl('jira'), jiraRaw, { identifier: randomUUID() })).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect((await timeline(t.id)).filter((e) => e.kind === 'issue-state' && e.body.includes(bug.key))).toHaveLength(1);
  });

  it('the poller picks up a change when no webhook came', async () => {
    const bug = jira.addIssue('Mobile app crashes on launch', JIRA_STATUSES.todo);
    const t = await openTicket(h, megan, 'App crashes');
    await say(megan, `link ${t.reference} jira:${bug.key}`);
    jira.setStatus(bug.key, JIRA_STATUSES.inProgress);
    await h.service.issues!.poller.pollOnce();
    expect(await timeline(t.id)).toContainEqual(expect.objectContaining({ kind: 'issue-state', body: expect.stringContaining(`Jira ${bug.key} moved To Do → In Progress`) }));
    expect((await ticket(t.id)).status).not.toBe('pending');
  });

  it('carries comments both ways without an echo loop', async () => {
    const issue = linear.addIssue('Webhooks arrive twice');
    const first = await openTicket(h, megan, 'We get every notification twice');
    const second = await openTicket(h, megan, 'Duplicate notifications');
    await say(megan, `link ${first.reference} linear:${issue.identifier}`);
    await say(megan, `link ${second.reference} linear:${issue.identifier}`);

    // Tracker → an internal note on every linking ticket; a second delivery of it notes nothing more.
    const comment = linear.commentPayload(issue.identifier, 'Found it: the retry queue double-sends.', 'Dana Engineer');
    expect((await linear.send(webhookUrl('linear'), comment)).status).toBe(200);
    expect((await linear.send(webhookUrl('linear'), comment)).status).toBe(200);
    for (const t of [first, second]) {
      const notes = (await timeline(t.id)).filter((e) => e.kind === 'note' && e.body.includes('double-sends'));
      expect(notes).toEqual([{ kind: 'note', visibility: 'internal', body: `Dana Engineer on Linear ${issue.identifier}: Found it: the retry queue double-sends.` }]);
    }
    const linearComments = () => linear.comments.filter((c) => c.issueId === issue.id);
    // The imported note was not posted back to Linear.
    expect(linearComments()).toHaveLength(1);

    // Ticket → tracker: an agent's note is posted on the issue, tagged as ours.
    await say(megan, `note ${first.reference} Customer confirms it started on Monday`);
    expect(linearComments()).toHaveLength(2);
    const ours = linearComments()[1]!;
    expect(ours.body).toContain(`[Service Desk] ${first.reference} · ${megan.name}`);
    expect(ours.body).toContain('Customer confirms it started on Monday');

    // Its webhook comes back: neither ticket gets it as a note.
    const before = [(await timeline(first.id)).length, (await timeline(second.id)).length];
    expect((await linear.send(webhookUrl('linear'), linear.commentWebhook(ours, 'Desk Bot'))).status).toBe(200);
    expect([(await timeline(first.id)).length, (await timeline(second.id)).length]).toEqual(before);
    expect(linearComments()).toHaveLength(2);
  });

  it('a delivery that fails to apply is answered 500, and the tracker’s retry of it is applied', async () => {
    const issue = linear.addIssue('Exports lose the last row');
    const t = await openTicket(h, megan, 'My export is missing a row');
    await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    const comment = linear.commentPayload(issue.identifier, 'Off-by-one in the paginator.', 'Dana Engineer');
    const delivery = randomUUID();
    // The database refuses the write half-way (a real failure of the store, not a mock of ours).
    await sql`ALTER TABLE synced_comments RENAME TO synced_comments_away`.execute(db());
    try {
      expect((await linear.send(webhookUrl('linear'), comment, { delivery })).status).toBe(500);
    } finally {
      await sql`ALTER TABLE synced_comments_away RENAME TO synced_comments`.execute(db());
    }
    expect(await linear.send(webhookUrl('linear'), comment, { delivery })).toEqual({ status: 200, body: { ok: true } });
    expect((await timeline(t.id)).filter((e) => e.kind === 'note' && e.body.includes('paginator'))).toHaveLength(1);
  });

  it('never posts a requester’s reply on the engineering issue (only agents’ notes and replies go)', async () => {
    const issue = linear.addIssue('Attachments fail to upload');
    const t = await openTicket(h, alex, 'I cannot attach my screenshot');
    await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    await say(alex, `reply ${t.reference} My manager's phone is 555-0100, call him`);
    expect(await timeline(t.id)).toContainEqual(expect.objectContaining({ kind: 'reply', body: expect.stringContaining('555-0100') }));
    expect(linear.comments.filter((c) => c.issueId === issue.id)).toEqual([]);
    await say(megan, `reply ${t.reference} We are on it`);
    expect(linear.comments.filter((c) => c.issueId === issue.id).map((c) => c.body)).toEqual([expect.stringContaining('We are on it')]);
  });

  it('creates an issue from the card’s dialog, prefilled from the ticket, and links it', async () => {
    const t = await openTicket(h, megan, 'Password reset emails never arrive');
    const card = (await h.say(megan, `show ${t.reference}`)).activity.attachments![0]!.content as Record<string, any>;
    expect(JSON.stringify(card)).toContain(DIALOG_VERBS.createIssue);
    // Teams shows six buttons at most: Create issue lives under More.
    expect(card.actions.length).toBeLessThanOrEqual(6);

    const opened = await dialog(h, 'task/fetch', { verb: DIALOG_VERBS.createIssue, ticket: t.id }, megan);
    expect(opened.type).toBe('continue');
    const content = opened.value.card.content;
    expect(schemaErrors(content)).toEqual([]);
    expect(objectModelErrors(content)).toEqual([]);
    const inputs = Object.fromEntries(content.body.filter((e: any) => e.id).map((e: any) => [e.id, e]));
    expect(inputs.title.value).toBe('Password reset emails never arrive');
    expect(inputs.description.value).toContain(t.reference);
    expect(inputs.project.choices.map((c: any) => c.value)).toEqual(['linear:team-uuid-eng', 'jira:OPS']);

    // Nothing typed as the title: the dialog comes back saying so, keeping the rest.
    const refused = await dialog(h, 'task/submit', { verb: DIALOG_VERBS.createIssue, ticket: t.id, project: 'jira:OPS', title: '  ', description: 'Reset mails bounce' }, megan);
    expect(refused.type).toBe('continue');
    expect(JSON.stringify(refused.value.card.content)).toContain('The issue needs a title.');

    const created = await dialog(h, 'task/submit', { verb: DIALOG_VERBS.createIssue, ticket: t.id, project: 'jira:OPS', title: 'Password reset emails not delivered', description: 'Reset mails bounce\nfor every user' }, megan);
    expect(created).toBeUndefined();
    const issue = [...jira.issues.values()].find((i) => i.summary === 'Password reset emails not delivered')!;
    // REST v3 takes the description as an Atlassian Document.
    expect(issue.description).toMatchObject({ type: 'doc', version: 1, content: [{ type: 'paragraph' }, { type: 'paragraph' }] });
    expect(await links(t.id)).toEqual([{ tracker: 'jira', issue_key: issue.key }]);
    expect(await timeline(t.id)).toContainEqual(expect.objectContaining({ kind: 'issue-linked', body: expect.stringContaining(`Created and linked Jira ${issue.key}`) }));

    // A requester can't open it.
    const requester = await dialog(h, 'task/fetch', { verb: DIALOG_VERBS.createIssue, ticket: t.id }, alex);
    expect(requester.type).toBe('message');
  });

  it('unlinks: the ticket no longer hears of the issue', async () => {
    const issue = linear.addIssue('Dark mode contrast', LINEAR_STATES.inProgress);
    const t = await openTicket(h, megan, 'Cannot read text in dark mode');
    await say(megan, `link ${t.reference} linear:${issue.identifier}`);
    expect(await say(megan, `unlink ${t.reference} linear:${issue.identifier}`)).toContain(`no longer links Linear ${issue.identifier}`);
    expect(await links(t.id)).toEqual([]);
    expect(await say(megan, `unlink ${t.reference} linear:${issue.identifier}`)).toContain('does not link');
    linear.setState(issue.identifier, LINEAR_STATES.done);
    expect((await linear.send(webhookUrl('linear'), linear.issueUpdatedPayload(issue.identifier))).status).toBe(200);
    expect((await ticket(t.id)).status).not.toBe('pending');
    expect((await timeline(t.id)).filter((e) => e.kind === 'issue-state' || e.kind === 'status')).toEqual([]);
  });
});

describe('issue links (comments one way, the default)', () => {
  let h: Harness;
  let linear: FakeLinear;
  let jira: FakeJira;
  const { say, timeline, webhookUrl } = helpers(() => h);

  beforeAll(async () => {
    linear = await new FakeLinear().start();
    jira = await new FakeJira().start();
    h = await startDesk('to-ticket', linear, jira);
    await h.install(megan);
  });
  afterAll(async () => {
    await h?.stop();
    await linear.stop();
    await jira.stop();
  });

  it('notes Jira comments on the ticket but never posts the ticket’s notes to Jira', async () => {
    const bug = jira.addIssue('Calendar sync stalls');
    const t = await openTicket(h, megan, 'My calendar does not sync');
    await say(megan, `link ${t.reference} jira:${bug.key}`);
    expect((await jira.send(webhookUrl('jira'), jira.commentPayload(bug.key, 'Reproduced on staging.', 'Sam Dev'))).status).toBe(200);
    expect(await timeline(t.id)).toContainEqual({ kind: 'note', visibility: 'internal', body: `Sam Dev on Jira ${bug.key}: Reproduced on staging.` });
    const comments = jira.comments.length;
    await say(megan, `note ${t.reference} Customer is on the Outlook plugin`);
    expect(jira.comments.length).toBe(comments);
  });
});

/** A dialog invoke as Teams sends it (the SDK fixture), from `person` in their chat with the bot. */
async function dialog(h: Harness, name: 'task/fetch' | 'task/submit', data: Record<string, unknown>, person: Person) {
  const activity = fixture(name === 'task/fetch' ? 'invoke-task-fetch.sdk-fixture.json' : 'invoke-task-submit.sdk-fixture.json');
  activity.id = `f:${randomUUID()}`;
  activity.serviceUrl = h.serviceUrl;
  activity.recipient = { id: `28:${h.botAppId}`, name: 'Service Desk' };
  activity.from = { id: person.id, name: person.name, aadObjectId: person.aadObjectId };
  activity.conversation = { conversationType: 'personal', tenantId: TENANT_ID, id: personalConversationId(person) };
  activity.channelData = { tenant: { id: TENANT_ID } };
  activity.value.data = data;
  const response = await h.post(activity);
  expect(response.status).toBe(200);
  return response.body?.task as { type: 'continue' | 'message'; value: any };
}

describe('issue links (credentials the trackers refuse)', () => {
  let h: Harness;
  let linear: FakeLinear;
  let jira: FakeJira;

  beforeAll(async () => {
    linear = await new FakeLinear().start();
    jira = await new FakeJira().start();
    h = await startHarness({
      env: { AGENT_IDS: megan.aadObjectId, LINEAR_API_KEY: 'lin_api_revoked', LINEAR_API_URL: linear.apiUrl, JIRA_BASE_URL: jira.baseUrl, JIRA_EMAIL: jira.email, JIRA_API_TOKEN: 'wrong-token' },
      service: { trackers: { backoff: { baseMs: 10, capMs: 50, jitter: 0 } } },
    });
    await h.install(megan);
  });
  afterAll(async () => {
    await h?.stop();
    await linear.stop();
    await jira.stop();
  });

  it('tells the agent which setting to check, links nothing, and never logs the key', async () => {
    const issue = linear.addIssue('Anything');
    const bug = jira.addIssue('Anything else');
    const t = await openTicket(h, megan, 'Something is broken');
    expect(JSON.stringify((await h.say(megan, `link ${t.reference} linear:${issue.identifier}`)).activity)).toContain('check LINEAR_API_KEY');
    expect(JSON.stringify((await h.say(megan, `link ${t.reference} jira:${bug.key}`)).activity)).toContain('check JIRA_EMAIL and JIRA_API_TOKEN');
    expect(await h.service.database.db.selectFrom('issue_links').selectAll().where('ticket_id', '=', t.id).execute()).toEqual([]);
    // A refused credential is not retried: one request each.
    expect(linear.requests.filter((r) => !r.authorized)).toHaveLength(1);
    expect(jira.requests.filter((r) => !r.authorized)).toHaveLength(1);
    // Webhooks are refused while no secret is set.
    expect((await linear.send(`${h.service.url}/api/webhooks/linear`, linear.issueUpdatedPayload(issue.identifier))).status).toBe(401);
    // Health shows both trackers refusing the desk, with what to check.
    const health = await h.service.health.report({ fresh: true });
    expect(health.checks.linear).toMatchObject({ status: expect.not.stringMatching(/^ok$/), lastError: expect.stringContaining('LINEAR_API_KEY') });
    expect(health.checks.jira).toMatchObject({ status: expect.not.stringMatching(/^ok$/), lastError: expect.stringContaining('JIRA_API_TOKEN') });
    expect(h.logs.raw.join('\n')).not.toContain('lin_api_revoked');
    expect(h.logs.raw.join('\n')).not.toContain('wrong-token');
  });

  it('npm run doctor names both trackers and what to fix', async () => {
    const env = { PORT: '0', DATABASE_URL: ':memory:', LINEAR_API_KEY: 'lin_api_revoked', LINEAR_API_URL: linear.apiUrl, JIRA_BASE_URL: jira.baseUrl, JIRA_EMAIL: jira.email, JIRA_API_TOKEN: jira.apiToken, JIRA_WEBHOOK_SECRET: 'x' };
    const rows = await runDoctor(env, { root: new URL('../../', import.meta.url).pathname, appEnv: 'dev', timeoutMs: 5_000 });
    expect(rows.find((r) => r.check === 'Linear')).toMatchObject({ ok: false, fix: expect.stringContaining('LINEAR_API_KEY') });
    expect(rows.find((r) => r.check === 'Jira')).toMatchObject({ ok: true, detail: 'credentials accepted; 1 project(s); webhooks verified' });
  });
});
