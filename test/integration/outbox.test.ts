import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findConversation } from '../../src/store/conversation-references.js';
import { claimDue, enqueue, findOutboxRow, type OutboxMessage } from '../../src/store/outbox.js';
import { channelMessage, CHANNEL_ID, personalConversationId, personalInstall, personalMessage, somebody, type Person } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

describe('outbox delivery through the fake connector', () => {
  let h: Harness;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
    h = await startHarness({ env: { DATABASE_URL: `sqlite:${join(dir, 'desk.db')}` }, service: { outbox: { maxAttempts: 3 } } });
  });
  afterAll(() => h.stop());

  const db = () => h.service.database.db;

  /** Installs the bot for a new person, as Teams would, and returns the stored conversation's row id. */
  async function installedFor(person: Person): Promise<number> {
    const install = personalInstall(h, 'add', person);
    await h.post(install);
    await h.connector.waitFor((c) => c.activityId === install.id);
    return (await findConversation(db(), personalConversationId(person)))!.id;
  }

  async function send(messages: OutboxMessage[]): Promise<void> {
    await enqueue(db(), messages, Date.now());
    h.service.outbox.wake();
  }

  const text = (key: string, conversationRefId: number, body = key): OutboxMessage => ({
    idempotencyKey: key,
    operation: 'send',
    conversationRefId,
    activity: { type: 'message', text: body },
  });

  it('sends a proactive message to a stored personal chat, as the bot, and records the activity id', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    await send([text('proactive-1', ref, 'Your ticket INC-1001 was assigned to you')]);
    const [call] = await h.connector.waitFor((c) => c.operation === 'send' && c.activity.text === 'Your ticket INC-1001 was assigned to you');
    expect(call!.conversationId).toBe(personalConversationId(person));
    expect(call!.appId).toBe(h.botAppId);
    expect(call!.activity.from.id).toBe(`28:${h.botAppId}`);
    await expect.poll(async () => (await findOutboxRow(db(), 'proactive-1'))?.status).toBe('sent');
    expect((await findOutboxRow(db(), 'proactive-1'))!.sent_activity_id).toBe(call!.activityId);
  });

  it('remembers where a ticket card went, then updates that copy in place', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    const now = Date.now();
    await db().insertInto('people').values({ name: person.name, role: 'requester', created_at: now, updated_at: now }).execute();
    const requester = await db().selectFrom('people').select('id').where('name', '=', person.name).executeTakeFirstOrThrow();
    await db()
      .insertInto('tickets')
      .values({ id: 5001, reference: 'INC-5001', type: 'incident', subject: 'VPN down', description: '', status: 'new', priority: 'P2', requester_id: requester.id, source: 'chat', created_at: now, updated_at: now, version: 1, is_open: 1 })
      .execute();

    await send([{ ...text('card-5001', ref, 'card v1'), ticketId: 5001, cardKind: 'ticket' }]);
    const [posted] = await h.connector.waitFor((c) => c.activity.text === 'card v1');
    await expect.poll(() => db().selectFrom('card_posts').selectAll().where('ticket_id', '=', 5001).execute()).toHaveLength(1);
    const post = await db().selectFrom('card_posts').selectAll().where('ticket_id', '=', 5001).executeTakeFirstOrThrow();
    expect(post).toMatchObject({ conversation_ref_id: ref, activity_id: posted!.activityId, kind: 'ticket' });

    await send([{ idempotencyKey: 'card-5001-v2', operation: 'update', conversationRefId: ref, targetActivityId: post.activity_id, ticketId: 5001, activity: { type: 'message', text: 'card v2' } }]);
    const [update] = await h.connector.waitFor((c) => c.operation === 'update' && c.activity.text === 'card v2');
    expect(update!.activityId).toBe(posted!.activityId);
    expect(update!.conversationId).toBe(personalConversationId(person));
    expect(update!.activity.id).toBe(posted!.activityId);
  });

  it('replies inside a channel thread', async () => {
    const mention = channelMessage(h, 'help');
    await h.post(mention);
    await h.connector.waitFor((c) => c.activityId === mention.id);
    const channel = (await findConversation(db(), CHANNEL_ID))!;
    await send([{ idempotencyKey: 'thread-reply-1', operation: 'reply', conversationRefId: channel.id, targetActivityId: '1700000000123', activity: { type: 'message', text: 'Added a note' } }]);
    const [reply] = await h.connector.waitFor((c) => c.activity.text === 'Added a note');
    expect(reply!.operation).toBe('reply');
    expect(reply!.conversationId).toBe(`${CHANNEL_ID};messageid=1700000000123`);
    expect(reply!.activityId).toBe('1700000000123');
  });

  it('keeps each conversation in order, and stores a notification enqueued twice only once', async () => {
    const ref = await installedFor(somebody());
    await send(['a', 'b', 'c', 'd', 'e'].map((n) => text(`order-${n}`, ref, `order ${n}`)));
    await send([text('order-a', ref, 'order a (again)')]);
    const calls = await h.connector.waitFor((c) => /^order /.test(c.activity.text ?? ''), { count: 5 });
    expect(calls.map((c) => c.activity.text)).toEqual(['order a', 'order b', 'order c', 'order d', 'order e']);
    await expect.poll(async () => (await findOutboxRow(db(), 'order-e'))?.status).toBe('sent');
    expect(h.connector.calls.filter((c) => /^order a/.test(c.activity.text ?? ''))).toHaveLength(1);
  });

  it('retries 412 with backoff until it goes through, once', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    h.connector.fail(2, { status: 412, body: { error: { code: 'PreconditionFailed', message: 'try again' } } }, (c) => c.conversationId === personalConversationId(person));
    await send([text('retry-412', ref, 'after two 412s')]);
    await h.connector.waitFor((c) => c.activity.text === 'after two 412s');
    const attempts = h.connector.calls.filter((c) => c.activity.text === 'after two 412s');
    expect(attempts.map((c) => c.status)).toEqual([412, 412, 201]);
    await expect.poll(async () => (await findOutboxRow(db(), 'retry-412'))?.status).toBe('sent');
    expect((await findOutboxRow(db(), 'retry-412'))!.attempts).toBe(2);
  });

  it('waits as long as a 429 Retry-After asks, never less', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    h.connector.fail(1, { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'ThrottledRequest' } } }, (c) => c.conversationId === personalConversationId(person));
    await send([text('retry-429', ref, 'after a 429')]);
    await h.connector.waitFor((c) => c.activity.text === 'after a 429', { timeoutMs: 8_000 });
    const [throttled, delivered] = h.connector.calls.filter((c) => c.activity.text === 'after a 429');
    expect(throttled!.status).toBe(429);
    expect(delivered!.at - throttled!.at).toBeGreaterThanOrEqual(950);
  });

  it('dead-letters a message after the attempt limit, with the reason kept for operators', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    h.connector.fail(3, { status: 412, body: { error: { code: 'PreconditionFailed' } } }, (c) => c.conversationId === personalConversationId(person));
    await send([text('dead-412', ref, 'never arrives')]);
    await expect.poll(async () => (await findOutboxRow(db(), 'dead-412'))?.status, { timeout: 5_000 }).toBe('dead');
    const row = (await findOutboxRow(db(), 'dead-412'))!;
    expect(row.attempts).toBe(3);
    expect(row.last_error).toMatch(/412/);
  });

  it('on 403 marks the conversation unreachable, stops sending there, and recovers when the person writes again', async () => {
    const person = somebody();
    const ref = await installedFor(person);
    h.connector.fail(1, { status: 403, body: { error: { code: 'MessageWritesBlocked', message: 'blocked' } } }, (c) => c.conversationId === personalConversationId(person));
    await send([text('blocked-1', ref, 'blocked one'), text('blocked-2', ref, 'blocked two')]);
    await expect.poll(async () => (await findOutboxRow(db(), 'blocked-2'))?.status).toBe('dead');
    expect((await findOutboxRow(db(), 'blocked-1'))!.status).toBe('dead');
    expect(h.connector.calls.filter((c) => c.activity.text === 'blocked two')).toHaveLength(0);
    const stale = (await findConversation(db(), personalConversationId(person)))!;
    expect(stale.staleReason).toMatch(/403/);

    const hello = personalMessage(h, 'help', { from: person });
    await h.post(hello);
    await h.connector.waitFor((c) => c.activityId === hello.id);
    // First contact after a block refreshes the reference, but the memo must not hide the change.
    await expect.poll(async () => (await findConversation(db(), personalConversationId(person)))!.staleReason).toBeNull();
  });

  it('stays inside Teams rate limits for a burst to one conversation, with no 429', async () => {
    const ref = await installedFor(somebody());
    h.connector.enforceTeamsLimits = true;
    try {
      const started = Date.now();
      await send(Array.from({ length: 12 }, (_, i) => text(`burst-${i}`, ref, `burst ${i}`)));
      const calls = await h.connector.waitFor((c) => /^burst /.test(c.activity.text ?? ''), { count: 12, timeoutMs: 10_000 });
      expect(h.connector.throttled).toHaveLength(0);
      expect(calls.map((c) => c.activity.text)).toEqual(Array.from({ length: 12 }, (_, i) => `burst ${i}`));
      // 8 sends per 2 s per conversation: the last four had to wait for the window.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    } finally {
      h.connector.enforceTeamsLimits = false;
    }
  });

  it('after a crash, sends what a dead worker had claimed exactly once, and nothing already sent', async () => {
    const ref = await installedFor(somebody());
    await h.service.outbox.stop();
    await enqueue(db(), [text('crash-1', ref, 'crash one'), text('crash-2', ref, 'crash two')], Date.now());
    // A worker that claimed the rows and died: its lease runs out almost at once.
    const claimed = await claimDue(db(), 'sqlite', { now: Date.now(), limit: 10, leaseMs: 1, owner: 'dead-worker' });
    expect(claimed.map((m) => m.idempotencyKey)).toContain('crash-1');

    await h.restart();
    await h.connector.waitFor((c) => c.activity.text === 'crash two');
    await h.restart();
    await send([text('crash-3', ref, 'crash three')]);
    await h.connector.waitFor((c) => c.activity.text === 'crash three');
    for (const body of ['crash one', 'crash two', 'crash three']) {
      expect(h.connector.calls.filter((c) => c.activity.text === body && c.status < 300)).toHaveLength(1);
    }
  });
});
