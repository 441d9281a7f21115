import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNotifyConfig } from '../../../src/notify-config.js';
import { countDeadLetters, listDeadLetters, redrive } from '../../../src/store/dead-letters.js';
import type { DeliveryOutcome } from '../../../src/workers/event-delivery-worker.js';
import { FakePagerDuty } from '../../fakes/pagerduty.js';
import { FakeWebhookReceiver } from '../../fakes/webhook-receiver.js';
import { adele, alex, cardAction, channelMessage, megan, personalInstall, personalMessage, type Person } from '../../support/activities.js';
import { startHarness, type Harness } from '../../support/harness.js';

// The notification rules end to end: the real service records each ticket event in the change's
// transaction, the rules route it, and the event worker delivers it to a webhook receiver (verifying
// with the standardwebhooks package) and PagerDuty's Events API (loopback fakes), while rules naming
// Teams channels post there without doubling the desk's built-in routing.

const CRITICAL = '19:critical-incidents-5e2a@thread.tacv2';
const ROUTING_KEY = 'R0ABCDEF1234567890abcdef12345678';
const secret = `whsec_${randomBytes(32).toString('base64')}`;

let h: Harness;
let receiver: FakeWebhookReceiver;
let pagerDuty: FakePagerDuty;

function rulesFile(extra = ''): string {
  return `
integrations:
  automation:
    type: webhook
    url: ${receiver.url('/desk-events')}
    secretEnv: AUTOMATION_SECRETS
    allowLoopback: true
  on-call:
    type: pagerduty
    routingKeyEnv: ON_CALL_KEY
    eventsUrl: ${pagerDuty.eventsUrl}
${extra}
rules:
  - name: every event to automation
    events: ['*']
    notify: [automation]
  - name: page on-call for P1s
    events: [ticket.created, sla.breach, escalation.unanswered]
    when: { priority: [P1] }
    notify: [on-call, automation, teams:critical]
`;
}

async function start(yaml: string): Promise<void> {
  const parsed = parseNotifyConfig(yaml, 'notify.yaml', { AUTOMATION_SECRETS: secret, ON_CALL_KEY: ROUTING_KEY });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  h = await startHarness({
    env: { AGENT_IDS: megan.aadObjectId, ADMIN_IDS: adele.aadObjectId },
    service: { notify: parsed.config, events: { pollIntervalMs: 50, backoff: { baseMs: 20, capMs: 200, jitter: 0 } } },
  });
  for (const person of [alex, megan, adele]) {
    const install = personalInstall(h, 'add', person);
    await h.post(install);
    await h.connector.waitFor((c) => c.activityId === install.id);
  }
  const setup = channelMessage(h, 'setup critical', { from: adele, channel: CRITICAL });
  await h.post(setup);
  await h.connector.waitFor((c) => c.activityId === setup.id);
}

/** Resolves with the first delivery outcome that matches (register before causing it). */
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

async function say(person: Person, text: string) {
  const message = personalMessage(h, text, { from: person });
  await h.post(message);
  return (await h.connector.waitFor((c) => c.activityId === message.id))[0]!;
}

const textOf = (call: { activity: unknown }) => JSON.stringify(call.activity);
const received = (type: string) => receiver.verified.filter((r) => (r.payload as { type: string }).type === type);

beforeEach(async () => {
  receiver = await new FakeWebhookReceiver([secret]).start();
  pagerDuty = await new FakePagerDuty(ROUTING_KEY).start();
});
afterEach(async () => {
  await h?.stop();
  await receiver.stop();
  await pagerDuty.stop();
});

describe('notification rules (service, webhook and PagerDuty fakes)', () => {
  it('sends a P1 to each target once, however many rules name it, and follows it up in PagerDuty until resolved', async () => {
    await start(rulesFile());
    const createdHook = outcome((o) => o.target === 'automation' && o.eventType === 'ticket.created');
    const paged = outcome((o) => o.target === 'on-call' && o.eventType === 'ticket.created');
    const created = await h.post(cardAction(h, { verb: 'ticket.create', data: { subject: 'Payroll system is down', description: 'Nobody can run payroll', type: 'incident', priority: 'P1' }, from: megan }));
    const reference = /Created (INC-\d+)/.exec(JSON.stringify(created.body))![1]!;
    expect((await createdHook).outcome).toBe('sent');
    expect((await paged).outcome).toBe('sent');

    // Two rules name the webhook: one delivery, signed so the standardwebhooks package accepts it.
    expect(received('ticket.created')).toHaveLength(1);
    const event = received('ticket.created')[0]!.payload as Record<string, any>;
    expect(event).toMatchObject({ type: 'ticket.created', version: 1, ticket: { reference, priority: 'P1', subject: 'Payroll system is down', requester: { name: megan.name } } });
    expect(received('ticket.created')[0]!.id).toBe(event.id);
    const alert = pagerDuty.openAlerts();
    expect(alert).toHaveLength(1);
    expect(alert[0]).toMatchObject({ status: 'triggered' });
    // The rule names the critical channel, where the built-in routing posts a new P1 anyway: one card.
    const ticketId = event.ticket.id as number;
    const critical = await h.service.database.db
      .selectFrom('outbox as o')
      .innerJoin('conversation_references as c', 'c.id', 'o.conversation_ref_id')
      .select('o.id')
      .where('o.ticket_id', '=', ticketId)
      .where('c.conversation_id', 'like', `${CRITICAL}%`)
      .execute();
    expect(critical).toHaveLength(1);

    // Taking it acknowledges the alert (PagerDuty follows the ticket it was paged for); resolving resolves it.
    const acknowledged = outcome((o) => o.target === 'on-call' && o.eventType === 'ticket.assigned');
    const assignedHook = outcome((o) => o.target === 'automation' && o.eventType === 'ticket.assigned');
    expect(textOf(await say(megan, `take ${reference}`))).toContain(`You took ${reference}`);
    expect(await acknowledged).toMatchObject({ outcome: 'sent', detail: expect.stringMatching(/acknowledge/) });
    await assignedHook;
    expect(pagerDuty.openAlerts()[0]).toMatchObject({ status: 'acknowledged' });
    expect(received('ticket.assigned')[0]!.payload).toMatchObject({ ticket: { reference, assignee: { name: megan.name } }, data: { assignee: { name: megan.name } }, actor: { name: megan.name } });

    const resolved = outcome((o) => o.target === 'on-call' && o.eventType === 'ticket.status_changed');
    await say(megan, `resolve ${reference} restarted the payroll service`);
    expect(await resolved).toMatchObject({ outcome: 'sent', detail: expect.stringMatching(/resolve/) });
    expect(pagerDuty.openAlerts()).toHaveLength(0);
  });

  it('acknowledges and resolves the alert of a P1 taken and resolved while PagerDuty was still throttling its page', async () => {
    await start(rulesFile());
    // PagerDuty refuses the page for a while: the ticket is taken and resolved before it gets through.
    pagerDuty.answerNext({ kind: 429, retryAfter: '3' });
    const throttled = outcome((o) => o.target === 'on-call' && o.outcome === 'throttled');
    const created = await h.post(cardAction(h, { verb: 'ticket.create', data: { subject: 'Badge readers are offline', description: 'Nobody gets in', type: 'incident', priority: 'P1' }, from: megan }));
    const reference = /Created (INC-\d+)/.exec(JSON.stringify(created.body))![1]!;
    await throttled;
    const paged = outcome((o) => o.target === 'on-call' && o.eventType === 'ticket.created' && o.outcome === 'sent');
    expect(textOf(await say(megan, `take ${reference}`))).toContain(`You took ${reference}`);
    await say(megan, `resolve ${reference} power restored`);

    // Once PagerDuty takes events again, the page, the acknowledgement and the resolve arrive in order.
    await paged;
    await expect.poll(() => pagerDuty.openAlerts().length, { timeout: 5_000 }).toBe(0);
    const actions = pagerDuty.requests.filter((r) => r.status === 202).map((r) => r.body?.event_action);
    expect(actions).toEqual(['trigger', 'acknowledge', 'resolve']);
  });

  it('retries a failing receiver with backoff, waits out its Retry-After, and keeps each ticket’s events in order', async () => {
    await start(rulesFile());
    receiver.answer({ status: 500 }, { status: 429, headers: { 'retry-after': '1' } });
    const retried = outcome((o) => o.target === 'automation' && o.outcome === 'retry');
    const throttled = outcome((o) => o.target === 'automation' && o.outcome === 'throttled');
    const replied = outcome((o) => o.target === 'automation' && o.eventType === 'ticket.updated' && o.outcome === 'sent');
    const opened = await say(alex, 'new VPN drops every hour');
    const reference = /(INC-\d+)/.exec(textOf(opened))![1]!;
    await retried;
    await throttled;
    await say(alex, `note ${reference} it happened again at noon`).catch(() => undefined);
    await say(megan, `note ${reference} looking at the concentrator logs`);
    await replied;
    const mine = receiver.verified.filter((r) => (r.payload as any).ticket.reference === reference).map((r) => (r.payload as any).type);
    // The created event was tried three times; what happened after it waited its turn.
    expect(mine.slice(0, 3)).toEqual(['ticket.created', 'ticket.created', 'ticket.created']);
    expect(mine.indexOf('ticket.updated')).toBeGreaterThan(2);
    const times = receiver.verified.filter((r) => (r.payload as any).type === 'ticket.created').map((r) => Number(r.timestamp));
    // Retry-After: 1 second between the throttled attempt and the next one (timestamps are whole seconds).
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters what a target refuses, shows it to operators, and re-drives it', async () => {
    await start(rulesFile());
    receiver.answer({ status: 400, body: 'unknown field' });
    const dead = outcome((o) => o.target === 'automation' && o.outcome === 'dead');
    await say(alex, 'new Laptop will not boot');
    expect((await dead).detail).toMatch(/400/);
    expect((await countDeadLetters(h.service.database.db)).events).toBe(1);
    const [letter] = (await listDeadLetters(h.service.database.db, 10)).filter((l) => l.outbox === 'events');
    expect(letter).toMatchObject({ target: 'automation', lastError: expect.stringContaining('400') });
    expect((await h.service.health.report({ fresh: true })).checks['integration:automation']).toMatchObject({ status: 'down', lastError: expect.stringContaining('400') });

    const sent = outcome((o) => o.target === 'automation' && o.outcome === 'sent');
    expect(await redrive(h.service.database.db, { ids: [{ outbox: 'events', id: letter!.id }] }, Date.now())).toBe(1);
    h.service.events.worker.wake();
    await sent;
    // The refused attempt and the re-driven one, the same event (same webhook-id).
    expect(received('ticket.created').map((r) => r.id)).toEqual([letter!.key.split(':')[1], letter!.key.split(':')[1]]);
    expect((await countDeadLetters(h.service.database.db)).events).toBe(0);
    expect((await h.service.health.report({ fresh: true })).checks['integration:automation']!.status).toBe('ok');
  });

  it('refuses a webhook whose address is loopback unless the file allows it, with the reason in the dead letter', async () => {
    await start(rulesFile().replace('    allowLoopback: true\n', ''));
    const dead = outcome((o) => o.target === 'automation' && o.outcome === 'dead');
    await say(alex, 'new Printer jammed');
    expect((await dead).detail).toMatch(/loopback/);
    expect(receiver.hits).toBe(0);
  });

  it('lists rules and integrations to admins, and tests an integration with its answer in plain words', async () => {
    await start(rulesFile());
    const listed = textOf(await say(adele, 'integrations'));
    expect(listed).toContain('automation (Webhook)');
    expect(listed).toContain('on-call (PagerDuty)');
    expect(listed).toContain('Built-in “P1 to critical”');
    expect(listed).toContain('Rule “page on-call for P1s”');
    expect(listed).not.toContain(ROUTING_KEY);
    expect(textOf(await say(megan, 'integrations'))).toContain('Only admins can see and test the integrations');

    const tested = textOf(await say(adele, 'integrations test automation'));
    expect(tested).toMatch(/automation .* answered: 200/);
    expect(receiver.verified.at(-1)!.payload).toMatchObject({ test: true, ticket: { reference: 'TEST-0' } });
    expect(textOf(await say(adele, 'integrations test on-call'))).toMatch(/on-call .* answered: .*accepted/);
    expect(pagerDuty.openAlerts()).toHaveLength(0);

    receiver.answer({ status: 503 });
    expect(textOf(await say(adele, 'integrations test automation'))).toMatch(/automation .* failed: 503.*retried with backoff/i);
    expect(textOf(await say(adele, 'integrations test nowhere'))).toContain('There is no integration named');
  });
});
