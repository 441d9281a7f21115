import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLACK_ACTIONS } from '../../../src/integrations/slack/actions.js';
import { parseNotifyConfig } from '../../../src/notify-config.js';
import type { DeliveryOutcome } from '../../../src/workers/event-delivery-worker.js';
import { buttonPress, buttonsOf, FakeSlack, slackRequest, slashCommand } from '../../fakes/slack.js';
import { alex, megan, personalInstall, personalMessage } from '../../support/activities.js';
import { startHarness, type Harness } from '../../support/harness.js';

// Slack beside Teams, end to end through the real service: a rule posts new tickets to a Slack
// channel (real WebClient against a loopback Slack), a signed button press on that message takes the
// ticket as the desk person with the same verified email, and both the Slack message (chat.update)
// and the requester's Teams card are updated in place.

const SIGNING_SECRET = 'slack-signing-secret-for-the-desk-tests';
const CHANNEL = 'C0DESK0001';

let h: Harness;
let slack: FakeSlack;

beforeEach(async () => {
  slack = await new FakeSlack(undefined, [CHANNEL]).start();
  slack.addUser({ id: 'U0MEGAN', name: 'megan', email: 'megan@contoso.example', emailConfirmed: true });
  slack.addUser({ id: 'U0ALEX', name: 'alex', email: 'alex@contoso.example', emailConfirmed: true });
  const rules = parseNotifyConfig(
    `
integrations:
  support-slack: { type: slack, channel: ${CHANNEL} }
rules:
  - name: new tickets in Slack
    events: [ticket.created]
    notify: [support-slack]
`,
    'notify.yaml',
    { SLACK_BOT_TOKEN: slack.token },
  );
  if (!rules.ok) throw new Error(rules.problems.join('\n'));
  h = await startHarness({
    env: { AGENT_IDS: megan.aadObjectId, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
    service: { notify: rules.config, slackResponseUrlBase: slack.hooksBase, events: { pollIntervalMs: 50, backoff: { baseMs: 20, capMs: 200, jitter: 0 } } },
  });
  for (const person of [alex, megan]) {
    const install = personalInstall(h, 'add', person);
    await h.post(install);
    await h.connector.waitFor((c) => c.activityId === install.id);
    const hello = personalMessage(h, 'help', { from: person });
    await h.post(hello);
    await h.connector.waitFor((c) => c.activityId === hello.id);
  }
  // Teams gave the desk these addresses (from the roster); Slack users are matched on them.
  for (const [person, email] of [[megan, 'megan@contoso.example'], [alex, 'alex@contoso.example']] as const) {
    await h.service.database.db.updateTable('people').set({ email }).where('aad_object_id', '=', person.aadObjectId).execute();
  }
});
afterEach(async () => {
  await h.stop();
  await slack.stop();
});

function outcome(match: (o: DeliveryOutcome) => boolean): Promise<DeliveryOutcome> {
  return new Promise((resolve) => {
    const listener = (o: DeliveryOutcome) => {
      if (o.outcome === 'deferred' || !match(o)) return;
      h.service.events.worker.outcomes.off('outcome', listener);
      resolve(o);
    };
    h.service.events.worker.outcomes.on('outcome', listener);
  });
}

async function slackPost(path: 'interactivity' | 'commands', fields: Record<string, string>, options: { now?: number; signature?: string } = {}) {
  const signed = slackRequest(SIGNING_SECRET, fields, options.now ?? Date.now());
  if (options.signature) signed.headers['x-slack-signature'] = options.signature;
  const response = await fetch(`${h.service.url}/api/slack/${path}`, { method: 'POST', headers: signed.headers, body: signed.body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('Slack beside Teams (service, loopback Slack, fake Teams channel)', () => {
  it('posts a new ticket to Slack, takes it from a Slack button, and updates the Slack message and the Teams card', async () => {
    const posted = outcome((o) => o.target === 'support-slack' && o.eventType === 'ticket.created');
    const opened = personalMessage(h, 'new Printer on floor 3 is on fire', { from: alex });
    await h.post(opened);
    const [answer] = await h.connector.waitFor((c) => c.activityId === opened.id);
    const reference = /(INC-\d+)/.exec(JSON.stringify(answer!.activity))![1]!;
    expect((await posted).outcome).toBe('sent');
    const [message] = slack.posts(CHANNEL);
    expect(message!.text).toContain(reference);
    const take = buttonsOf(message!).find((b) => b.action_id === SLACK_ACTIONS.take)!;
    expect(take).toBeDefined();

    const updated = outcome((o) => o.target === 'support-slack' && o.eventType === 'ticket.assigned');
    const teamsCardUpdated = h.connector.waitFor((c) => c.operation === 'update' && JSON.stringify(c.activity).includes(reference) && JSON.stringify(c.activity).includes(megan.name));
    const pressed = await slackPost('interactivity', buttonPress({ id: 'U0MEGAN' }, message!, take));
    expect(pressed.status).toBe(200);

    const ticket = await h.service.database.db.selectFrom('tickets').innerJoin('people', 'people.id', 'tickets.assignee_id').select(['people.name', 'tickets.status']).where('tickets.reference', '=', reference).executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ name: megan.name, status: 'open' });
    expect((await updated).outcome).toBe('sent');
    expect(message!.updates.length).toBeGreaterThan(0);
    expect(JSON.stringify(message!.blocks)).toContain(megan.name);
    expect(buttonsOf(message!).some((b) => b.action_id === SLACK_ACTIONS.take)).toBe(false);
    await teamsCardUpdated;
    const audit = await h.service.database.db.selectFrom('audit_log').select(['action', 'surface']).where('action', '=', 'ticket.assigned').execute();
    expect(audit).toEqual([{ action: 'ticket.assigned', surface: 'slack' }]);
  });

  it('refuses forged and stale Slack requests before reading them, and answers /ticket as the verified desk person', async () => {
    const forged = await slackPost('commands', slashCommand({ id: 'U0MEGAN' }, 'help'), { signature: `v0=${'0'.repeat(64)}` });
    expect(forged.status).toBe(401);
    const stale = await slackPost('commands', slashCommand({ id: 'U0MEGAN' }, 'help'), { now: Date.now() - 6 * 60_000 });
    expect(stale.status).toBe(401);
    expect(JSON.stringify(stale.body)).toMatch(/stale|old|window/i);

    const created = await slackPost('commands', slashCommand({ id: 'U0ALEX' }, 'create VPN drops every hour'));
    expect(created.status).toBe(200);
    const reference = /(INC-\d+)/.exec(created.body!.text)![1]!;
    const shown = await slackPost('commands', slashCommand({ id: 'U0MEGAN' }, `show ${reference}`));
    expect(shown.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('VPN drops every hour') });
    slack.addUser({ id: 'U0NOBODY', name: 'nobody', email: 'nobody@elsewhere.example', emailConfirmed: true });
    const unknown = await slackPost('commands', slashCommand({ id: 'U0NOBODY' }, `take ${reference}`));
    expect(unknown.body!.text).toContain('nobody@elsewhere.example');
    const row = await h.service.database.db.selectFrom('tickets').select('assignee_id').where('reference', '=', reference).executeTakeFirstOrThrow();
    expect(row.assignee_id).toBeNull();
  });
});
