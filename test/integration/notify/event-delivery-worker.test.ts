import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyTarget } from '../../../src/integrations/pagerduty/target.js';
import { WebhookTarget } from '../../../src/integrations/webhook/target.js';
import { redrive } from '../../../src/store/dead-letters.js';
import { createLogger } from '../../../src/logger.js';
import type { Database } from '../../../src/store/database.js';
import { enqueueDeliveries } from '../../../src/store/event-deliveries.js';
import { EventDeliveryWorker, type ConfiguredTarget } from '../../../src/workers/event-delivery-worker.js';
import { FakePagerDuty } from '../../fakes/pagerduty.js';
import { FakeWebhookReceiver } from '../../fakes/webhook-receiver.js';
import { engines } from '../../support/databases.js';
import { deskEvent } from '../../support/desk-events.js';

// The event delivery worker on each store, with its clock in the test's hand: how long a failing
// target is retried (its retry period, then a dead letter), Retry-After, per-lane order and pace.

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const HOUR = 3_600_000;
const ROUTING_KEY = 'R0ABCDEF1234567890abcdef12345678';

describe.each(engines)('event delivery worker on $name', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let receiver: FakeWebhookReceiver;
  let target: WebhookTarget;
  let now: number;

  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
    receiver = await new FakeWebhookReceiver([secret]).start();
    target = new WebhookTarget({ name: 'automation', url: receiver.url(), secrets: [secret], allowLoopback: true });
    now = Date.parse('2026-11-23T10:00:00Z');
  });
  afterEach(async () => {
    target.close();
    await receiver.stop();
    await cleanup();
  });

  const worker = (targets: Map<string, ConfiguredTarget>) =>
    new EventDeliveryWorker({ database, targets, logger: createLogger('silent'), clock: () => now, random: () => 0.5, options: { backoff: { baseMs: 60_000, capMs: HOUR, jitter: 0 } } });
  const queue = async (ticketId: number, type = 'ticket.updated') => {
    const event = deskEvent({ type: type as never, ticket: { id: ticketId } });
    await enqueueDeliveries(database.db, [{ target: 'automation', eventId: event.id, eventType: event.type, ticketId, matched: true, payload: JSON.stringify(event) }], now);
    return event;
  };
  const row = (eventId: string) => database.db.selectFrom('event_deliveries').selectAll().where('event_id', '=', eventId).executeTakeFirstOrThrow();

  it('retries a failing receiver with growing waits for its retry period, then dead-letters the event', async () => {
    receiver.answer(...Array.from({ length: 100 }, () => ({ status: 502 })));
    const events = worker(new Map([['automation', { target, retryForMs: 24 * HOUR }]]));
    const event = await queue(1);
    const waits: number[] = [];
    for (let round = 0; round < 60; round++) {
      await events.drainOnce();
      const r = await row(event.id);
      if (r.status !== 'pending') break;
      waits.push(Number(r.next_attempt_at) - now);
      now = Number(r.next_attempt_at);
    }
    const dead = await row(event.id);
    expect(dead.status).toBe('dead');
    expect(dead.last_error).toMatch(/502.*gave up after \d+ attempts/);
    // Backoff doubles from a minute to the one-hour cap, and the last try falls within the day.
    expect(waits.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(Math.max(...waits)).toBe(HOUR);
    expect(now - Date.parse('2026-11-23T10:00:00Z')).toBeLessThanOrEqual(24 * HOUR);
    expect(now - Date.parse('2026-11-23T10:00:00Z')).toBeGreaterThan(22 * HOUR);
    expect(receiver.hits).toBe(dead.attempts);
  });

  it('waits out Retry-After without spending an attempt, and holds the ticket’s later events behind it', async () => {
    receiver.answer({ status: 429, headers: { 'retry-after': '120' } });
    const events = worker(new Map([['automation', { target, retryForMs: 24 * HOUR }]]));
    const first = await queue(7, 'ticket.created');
    const second = await queue(7, 'ticket.assigned');
    await events.drainOnce();
    expect(await row(first.id)).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: now + 120_000 });
    // The ticket's next event may not overtake it, even though it is due.
    expect(await row(second.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(receiver.hits).toBe(1);
    now += 119_000;
    expect(await events.drainOnce()).toBe(0);
    now += 1_000;
    await events.drainOnce();
    await events.drainOnce();
    expect(receiver.verified.map((r) => (r.payload as { type: string }).type)).toEqual(['ticket.created', 'ticket.created', 'ticket.assigned']);
  });

  it('takes a Retry-After of 0 as a second, not as “again at once”', async () => {
    receiver.answer({ status: 429, headers: { 'retry-after': '0' } });
    const events = worker(new Map([['automation', { target, retryForMs: HOUR }]]));
    const event = await queue(9);
    await events.drainOnce();
    expect(await row(event.id)).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: now + 1_000 });
  });

  it('skips a re-driven event older than what a ticket-following target already has', async () => {
    const pd = await new FakePagerDuty(ROUTING_KEY).start();
    try {
      const pager = new PagerDutyTarget({ name: 'on-call', routingKey: ROUTING_KEY, eventsUrl: pd.eventsUrl });
      const events = worker(new Map([['on-call', { target: pager, retryForMs: HOUR }]]));
      const trigger = deskEvent({ type: 'sla.breach', ticket: { id: 5 } });
      const resolve = deskEvent({ type: 'ticket.status_changed', ticket: { id: 5, status: 'resolved' }, data: { from: 'open', to: 'resolved' } });
      await enqueueDeliveries(database.db, [{ target: 'on-call', eventId: trigger.id, eventType: trigger.type, ticketId: 5, matched: true, payload: JSON.stringify(trigger) }], now);
      await enqueueDeliveries(database.db, [{ target: 'on-call', eventId: resolve.id, eventType: resolve.type, ticketId: 5, matched: false, payload: JSON.stringify(resolve) }], now);
      // The trigger was dead-lettered (PagerDuty down all day); the resolve went out after it.
      await database.db.updateTable('event_deliveries').set({ status: 'dead', last_error: '503' }).where('event_id', '=', trigger.id).execute();
      await events.drainOnce();
      expect(await row(resolve.id)).toMatchObject({ status: 'sent' });
      expect(await redrive(database.db, { all: true }, now)).toBe(1);
      await events.drainOnce();
      expect(await row(trigger.id)).toMatchObject({ status: 'sent', result: expect.stringContaining('skipped') });
      expect(pd.openAlerts()).toHaveLength(0);
    } finally {
      await pd.stop();
    }
  });

  it('keeps to a target’s own pace per lane, and dead-letters events of an integration no longer configured', async () => {
    const paced = new WebhookTarget({ name: 'automation', url: receiver.url(), secrets: [secret], allowLoopback: true, maxPerSecond: 1 });
    const events = worker(new Map([['automation', { target: paced, retryForMs: HOUR }]]));
    await queue(1);
    const later = await queue(2);
    await events.drainOnce();
    expect(receiver.hits).toBe(1);
    expect(await row(later.id)).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: now + 1_050 });
    now += 1_050;
    await events.drainOnce();
    expect(receiver.hits).toBe(2);
    paced.close();

    const orphan = deskEvent({ ticket: { id: 3 } });
    await enqueueDeliveries(database.db, [{ target: 'retired', eventId: orphan.id, eventType: orphan.type, ticketId: 3, matched: true, payload: JSON.stringify(orphan) }], now);
    await events.drainOnce();
    expect(await database.db.selectFrom('event_deliveries').select(['status', 'last_error']).where('target', '=', 'retired').executeTakeFirstOrThrow()).toEqual({ status: 'dead', last_error: 'the integration "retired" is no longer in NOTIFY_CONFIG' });
  });
});
