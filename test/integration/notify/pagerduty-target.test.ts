import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeskEvent } from '../../../src/domain/desk-events.js';
import type { DeliveryContext, DeliveryResult, ExternalPost } from '../../../src/integrations/notify/target.js';
import { TargetError } from '../../../src/integrations/notify/target.js';
import { PagerDutyTarget, type PagerDutyTargetOptions } from '../../../src/integrations/pagerduty/target.js';
import { FakePagerDuty } from '../../fakes/pagerduty.js';
import { assigned, deskEvent, statusChanged, ticketSnapshot } from '../../support/pagerduty-events.js';

/**
 * The PagerDuty target against a loopback Events API v2 that checks events like the real one and keeps
 * each alert's state: what on-call would see after each desk event.
 */

const ROUTING_KEY = 'R0ABCDEF1234567890abcdef12345678';
const OTHER_KEY = 'e93facc04764012d7bfb002500d5d1a6';

let pd: FakePagerDuty;
beforeEach(async () => {
  pd = await new FakePagerDuty(ROUTING_KEY).start();
});
afterEach(async () => {
  await pd.stop();
});

function target(options: Partial<PagerDutyTargetOptions> = {}): PagerDutyTarget {
  return new PagerDutyTarget({ name: 'on-call', routingKey: ROUTING_KEY, eventsUrl: pd.eventsUrl, ticketUrl: (t) => `https://desk.example.com/tickets/${t.reference}`, ...options });
}

/**
 * Delivers like the worker: remembers per ticket what the target posted, and says whether a rule sent
 * the event (`matched`) or it only follows up a ticket the target posted about.
 */
class Worker {
  readonly posts = new Map<number, ExternalPost>();
  constructor(readonly pagerduty: PagerDutyTarget) {}

  async deliver(event: DeskEvent, matched: boolean, signal: AbortSignal = new AbortController().signal): Promise<DeliveryResult> {
    const context: DeliveryContext = { previous: this.posts.get(event.ticket.id), matched, signal };
    const result = await this.pagerduty.deliver(event, context);
    if (result.post) this.posts.set(event.ticket.id, result.post);
    return result;
  }
}

async function failure(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TargetError)) throw new Error(`expected a TargetError, got ${String(error)}`);
  return error;
}

describe('PagerDuty target: an alert per ticket', () => {
  it('triggers on a rule’s event, acknowledges when an agent takes the ticket, resolves when it is resolved', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot({ subject: 'Payroll down' });

    const triggered = await worker.deliver(deskEvent('sla.breach', ticket), true);
    const dedupKey = `teams-service-desk-ticket-${ticket.id}`;
    expect(triggered.post).toEqual({ externalId: dedupKey });
    expect(triggered.summary).toContain(`accepted (dedup_key ${dedupKey})`);
    const alert = pd.alert(dedupKey, ROUTING_KEY)!;
    expect(alert).toMatchObject({ status: 'triggered', incidents: 1, triggers: 1 });
    expect(alert.lastTrigger).toMatchObject({
      client_url: `https://desk.example.com/tickets/${ticket.reference}`,
      links: [{ href: `https://desk.example.com/tickets/${ticket.reference}` }],
      payload: {
        summary: `[P1] ${ticket.reference} Payroll down — SLA breached`,
        severity: 'critical',
        source: 'teams-service-desk',
        class: 'sla.breach',
        custom_details: { reference: ticket.reference, status: 'open', tier: 'gold', assignee: null, event: 'sla.breach' },
      },
    });

    const taken = assigned(ticket, 'Megan Bowen');
    const ack = await worker.deliver(taken, false);
    expect(ack.summary).toContain(`accepted (dedup_key ${dedupKey})`);
    expect(ack.post).toBeUndefined();
    expect(pd.alert(dedupKey)).toMatchObject({ status: 'acknowledged', acknowledges: 1 });

    await worker.deliver(statusChanged(taken.ticket, 'resolved'), false);
    expect(pd.alert(dedupKey)).toMatchObject({ status: 'resolved', incidents: 1, resolves: 1, dropped: 0 });
    expect(pd.openAlerts()).toEqual([]);
    expect(pd.requests.map((r) => r.body?.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
  });

  it('acknowledges when an escalation is accepted, and resolves on close', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot();
    const { post } = await worker.deliver(deskEvent('escalation.unanswered', ticket), true);
    expect(pd.alert(post!.externalId)!.lastTrigger).toMatchObject({ payload: { summary: `[P1] ${ticket.reference} Payroll down — escalation unanswered (level 3 of 3)` } });
    await worker.deliver(deskEvent('escalation.accepted', ticket), false);
    expect(pd.alert(post!.externalId)!.status).toBe('acknowledged');
    await worker.deliver(statusChanged(ticket, 'closed'), false);
    expect(pd.alert(post!.externalId)!.status).toBe('resolved');
  });

  it('keeps one incident when rules page twice about one ticket, and pages anew when a reopened ticket breaches', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot();
    const first = await worker.deliver(deskEvent('ticket.created', ticket), true);
    const second = await worker.deliver(deskEvent('sla.breach', ticket), true);
    expect(second.post).toEqual(first.post);
    expect(pd.alert(first.post!.externalId)).toMatchObject({ status: 'triggered', incidents: 1, triggers: 2 });
    expect(pd.openAlerts()).toHaveLength(1);

    await worker.deliver(statusChanged(ticket, 'resolved'), false);
    const reopened = statusChanged({ ...ticket, status: 'resolved' }, 'open');
    expect(await worker.deliver(reopened, false)).toEqual({ skipped: true, summary: 'nothing to tell PagerDuty' });
    await worker.deliver(deskEvent('sla.breach', reopened.ticket), true);
    expect(pd.alert(first.post!.externalId)).toMatchObject({ status: 'triggered', incidents: 2, triggers: 3 });
  });

  it('sends nothing for follow-ups of a ticket it never paged about, or that say nothing to a pager', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot();
    for (const event of [assigned(ticket, 'Megan Bowen'), deskEvent('escalation.accepted', ticket), statusChanged(ticket, 'resolved')]) {
      expect(await worker.deliver(event, false)).toEqual({ skipped: true, summary: 'nothing to tell PagerDuty' });
    }
    await worker.deliver(deskEvent('ticket.created', ticket), true);
    const before = pd.requests.length;
    const unassigned = deskEvent('ticket.assigned', ticket, { data: { assignee: null } });
    for (const event of [deskEvent('ticket.updated', ticket), deskEvent('ticket.public_reply', ticket), unassigned, statusChanged(ticket, 'pending')]) {
      expect(await worker.deliver(event, false)).toEqual({ skipped: true, summary: 'nothing to tell PagerDuty' });
    }
    expect(pd.requests).toHaveLength(before);
  });

  it('never pages about a ticket that is already resolved, even when a rule matches the event', async () => {
    const worker = new Worker(target());
    const done = ticketSnapshot({ status: 'resolved' });
    const result = await worker.deliver(deskEvent('ticket.priority_changed', done), true);
    expect(result).toEqual({ skipped: true, summary: `nothing to tell PagerDuty: ${done.reference} is resolved` });
    expect(pd.requests).toEqual([]);
  });

  it('maps priority to severity and keeps the summary within PagerDuty’s 1024 characters', async () => {
    const worker = new Worker(target({ ticketUrl: undefined }));
    const expected = { P2: 'error', P3: 'warning', P4: 'info' } as const;
    for (const [priority, severity] of Object.entries(expected)) {
      const { post } = await worker.deliver(deskEvent('ticket.created', ticketSnapshot({ priority })), true);
      expect(pd.alert(post!.externalId)!.lastTrigger).toMatchObject({ payload: { severity } });
    }
    const long = ticketSnapshot({ subject: `Printer ${'🖨️ jam '.repeat(400)}` });
    const { post } = await worker.deliver(deskEvent('ticket.created', long), true);
    const trigger = pd.alert(post!.externalId)!.lastTrigger!;
    const summary = (trigger.payload as { summary: string }).summary;
    expect(Array.from(summary)).toHaveLength(1024);
    expect(summary.startsWith(`[P1] ${long.reference} Printer`)).toBe(true);
    expect(trigger).not.toHaveProperty('links');
  });
});

describe('PagerDuty target: what PagerDuty answers', () => {
  it('reports a 400 as permanent with PagerDuty’s reasons', async () => {
    const worker = new Worker(target({ routingKey: OTHER_KEY }));
    const error = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(error.kind).toBe('permanent');
    expect(error.details.status).toBe(400);
    expect(error.message).toBe('PagerDuty refused the event (400): Event object is invalid: Invalid routing key');
  });

  it('refuses a recorded dedup_key PagerDuty would not take, without sending it', async () => {
    const ticket = ticketSnapshot();
    const error = await failure(target().deliver(statusChanged(ticket, 'resolved'), { previous: { externalId: 'x'.repeat(256) }, matched: false, signal: new AbortController().signal }));
    expect(error.kind).toBe('permanent');
    expect(pd.requests).toEqual([]);
  });

  it('classifies 429 as throttled with Retry-After, or 30 s without it, and a retry then lands once', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot();
    pd.answerNext({ kind: 429, retryAfter: '7' }, { kind: 429 });
    const withHeader = await failure(worker.deliver(deskEvent('sla.breach', ticket), true));
    expect(withHeader).toMatchObject({ kind: 'throttled', details: { status: 429, retryAfterMs: 7_000 } });
    const without = await failure(worker.deliver(deskEvent('sla.breach', ticket), true));
    expect(without).toMatchObject({ kind: 'throttled', details: { status: 429, retryAfterMs: 30_000 } });
    await worker.deliver(deskEvent('sla.breach', ticket), true);
    expect(pd.openAlerts()).toHaveLength(1);
    expect(pd.openAlerts()[0]).toMatchObject({ incidents: 1, triggers: 1 });
  });

  it('paces itself to PagerDuty’s documented limit, in one lane per routing key', async () => {
    const pagerduty = target();
    expect(pagerduty.limits).toEqual([{ limit: 110, windowMs: 60_000 }]);
    const lanes = new Set([pagerduty.laneOf(deskEvent('sla.breach', ticketSnapshot())), pagerduty.laneOf(deskEvent('ticket.created', ticketSnapshot()))]);
    expect(lanes.size).toBe(1);
    expect(new Set([...lanes, target({ routingKey: OTHER_KEY }).laneOf(deskEvent('sla.breach', ticketSnapshot()))]).size).toBe(2);
  });

  it('classifies a real 429 past the limit as throttled', async () => {
    pd.limitPerMinute = 2;
    const worker = new Worker(target());
    await worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true);
    await worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true);
    const error = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(error.kind).toBe('throttled');
    expect(pd.openAlerts()).toHaveLength(2);
  });

  it('classifies 5xx as transient, keeping a Retry-After', async () => {
    const worker = new Worker(target());
    pd.answerNext({ kind: 500 }, { kind: 503, retryAfter: '12' });
    const internal = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(internal).toMatchObject({ kind: 'transient', details: { status: 500 } });
    expect(internal.message).toBe('PagerDuty answered 500: Internal Server Error');
    const unavailable = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(unavailable).toMatchObject({ kind: 'transient', details: { status: 503, retryAfterMs: 12_000 } });
  });

  it('gives up a request PagerDuty never answers when the worker’s signal fires, closing the connection', async () => {
    const worker = new Worker(target());
    pd.answerNext({ kind: 'hang' });
    const attempt = new AbortController();
    const delivery = failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true, attempt.signal));
    await pd.received(1);
    attempt.abort(new Error('attempt timed out'));
    const error = await delivery;
    expect(error.kind).toBe('transient');
    expect(error.message).toBe('PagerDuty did not answer in time (127.0.0.1:' + new URL(pd.eventsUrl).port + ')');
    await pd.hangClosed();
  });

  it('gives up by its own timeout when no signal fires', async () => {
    const worker = new Worker(target({ timeoutMs: 200 }));
    pd.answerNext({ kind: 'hang' });
    const error = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(error.kind).toBe('transient');
    await pd.hangClosed();
  });

  it('classifies a refused connection as transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(new Worker(target({ eventsUrl: `http://127.0.0.1:${port}/v2/enqueue` })).deliver(deskEvent('sla.breach', ticketSnapshot()), true));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/^could not reach PagerDuty at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});

describe('PagerDuty target: integrations test', () => {
  it('triggers a test alert of its own and resolves it at once, leaving nothing open', async () => {
    const worker = new Worker(target());
    const ticket = ticketSnapshot();
    await worker.deliver(deskEvent('ticket.created', ticket), true);
    const test = deskEvent('sla.breach', ticket, { test: true });
    const result = await worker.deliver(test, true);
    expect(result.post).toBeUndefined();
    const testKey = `teams-service-desk-test-${test.id}`;
    expect(result.summary).toBe(`test alert accepted and resolved (dedup_key ${testKey})`);
    expect(pd.alert(testKey)).toMatchObject({ status: 'resolved', incidents: 1, triggers: 1, resolves: 1 });
    expect((pd.alert(testKey)!.lastTrigger!.payload as { summary: string }).summary).toBe(`Test: [P1] ${ticket.reference} Payroll down — SLA breached`);
    // The ticket's real alert is untouched.
    expect(pd.openAlerts().map((a) => a.dedupKey)).toEqual([`teams-service-desk-ticket-${ticket.id}`]);
    expect(pd.alert(`teams-service-desk-ticket-${ticket.id}`)).toMatchObject({ triggers: 1, resolves: 0 });
  });

  it('a test whose resolve failed leaves one alert that the retry resolves', async () => {
    const worker = new Worker(target());
    const test = deskEvent('ticket.created', ticketSnapshot(), { test: true });
    pd.answerNext({ kind: 'raw', status: 202, body: { status: 'success', message: 'Event processed', dedup_key: `teams-service-desk-test-${test.id}` } }, { kind: 503 });
    expect((await failure(worker.deliver(test, true))).kind).toBe('transient');
    await worker.deliver(test, true);
    expect(pd.openAlerts()).toEqual([]);
    expect(pd.alert(`teams-service-desk-test-${test.id}`)).toMatchObject({ incidents: 1, resolves: 1 });
  });
});

describe('PagerDuty target: the routing key stays secret', () => {
  it('never shows the key in describe(), the lane, or any error', async () => {
    const pagerduty = target();
    expect(pagerduty.describe()).toMatch(/^PagerDuty Events API v2 at 127\.0\.0\.1:\d+\/v2\/enqueue \(routing key #[0-9a-f]{12}\)$/);
    const shown: string[] = [pagerduty.describe(), pagerduty.laneOf(deskEvent('sla.breach', ticketSnapshot()))];

    // PagerDuty's reasons may quote what was sent.
    pd.answerNext(
      { kind: 'raw', status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: [`routing key ${ROUTING_KEY} is disabled`] } },
      { kind: 429 },
      { kind: 500 },
    );
    const worker = new Worker(pagerduty);
    for (let i = 0; i < 3; i++) {
      const error = await failure(worker.deliver(deskEvent('sla.breach', ticketSnapshot()), true));
      shown.push(error.message, JSON.stringify(error.details), String(error.cause ?? ''));
    }
    expect(shown[2]).toBe('PagerDuty refused the event (400): Event object is invalid: routing key [routing key] is disabled');
    for (const text of shown) expect(text).not.toContain(ROUTING_KEY);
  });

  it('refuses a malformed key at construction without printing it', () => {
    for (const routingKey of ['s3cr3t-but-too-short', `${ROUTING_KEY}x`, '', 'R0ABCDEF1234567890abcdef1234567!']) {
      let message = '';
      try {
        target({ routingKey });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('PagerDuty target "on-call": the routing key must be the 32-character integration key');
      if (routingKey) expect(message).not.toContain(routingKey);
    }
    // A trailing newline from an env file is not part of the key.
    expect(target({ routingKey: `${ROUTING_KEY}\n` }).describe()).toBe(target().describe());
  });

  it('refuses to send the key over plain http to anything but this machine', () => {
    expect(() => target({ eventsUrl: 'http://events.pagerduty.com/v2/enqueue' })).toThrow('eventsUrl must be https');
    expect(() => target({ eventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue' })).not.toThrow();
    expect(() => target({ eventsUrl: 'https://hooks.internal.example/v2/enqueue' })).toThrow('must be a pagerduty.com address');
  });
});

describe('the fake Events API checks events like PagerDuty', () => {
  async function post(body: unknown): Promise<{ status: number; json: { status: string; message: string; errors?: string[] } }> {
    const response = await fetch(pd.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as { status: string; message: string; errors?: string[] } };
  }
  const payload = { summary: 'Disk full', source: 'db-1', severity: 'critical' };

  it('answers 400 with the reasons for bad events, 202 for good ones', async () => {
    expect(await post({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { ...payload, severity: 'urgent' } })).toEqual({
      status: 400,
      json: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"] },
    });
    expect((await post({ routing_key: ROUTING_KEY, event_action: 'snooze', dedup_key: 'a' })).json.errors).toEqual(["'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"]);
    expect((await post({ routing_key: ROUTING_KEY, event_action: 'resolve' })).json.errors).toEqual(["'dedup_key' is missing or blank"]);
    expect((await post({ routing_key: 'short', event_action: 'trigger', payload: { ...payload, summary: 'x'.repeat(1025) }, dedup_key: 'k'.repeat(256) })).json.errors).toEqual([
      "Length of 'routing_key' is incorrect (should be 32 characters)",
      "Length of 'dedup_key' is too long (maximum is 255 characters)",
      "Length of 'payload.summary' is too long (maximum is 1024 characters)",
    ]);
    expect((await post('{not json')).json).toEqual({ status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] });
    const accepted = await post({ routing_key: ROUTING_KEY, event_action: 'trigger', payload });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toMatchObject({ status: 'success', message: 'Event processed', dedup_key: expect.any(String) });
  });

  it('drops an acknowledge for no open alert', async () => {
    expect((await post({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'nobody' })).status).toBe(202);
    expect(pd.alert('nobody')).toMatchObject({ status: 'resolved', incidents: 0, dropped: 1 });
    expect(pd.openAlerts()).toEqual([]);
  });
});
