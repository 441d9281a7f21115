import { afterEach, describe, expect, it } from 'vitest';
import { composeEml } from '../fakes/mail-message.js';
import { claimDue, enqueue } from '../../src/store/outbox.js';
import { insertReminder } from '../../src/store/reminders.js';
import { alex, megan, personalConversationId, somebody } from '../support/activities.js';
import { postgresSchema } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Two replicas of the service on one Postgres: work that must happen once is claimed, never assumed.
 * Runs when TEST_DATABASE_URL is set (CI sets it; see vitest.config.ts).
 */
describe('two replicas on one Postgres', () => {
  let h: Harness;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await h?.stop();
    await drop?.();
  });

  async function twoReplicas(options: { mail?: boolean } = {}) {
    const schema = (await postgresSchema())!;
    drop = schema.drop;
    h = await startHarness({ ...options, env: { DATABASE_URL: schema.url, AGENT_IDS: megan.aadObjectId }, service: { sweeper: { pollIntervalMs: 100 } } });
    const b = await h.startReplica();
    return { a: h.service, b };
  }

  it('sends each queued message once, with both replicas claiming from one outbox', { timeout: 30_000 }, async () => {
    const { a } = await twoReplicas();
    const people = Array.from({ length: 20 }, (_, i) => somebody(`Person ${i}`));
    await h.install(...people);
    const refs = await a.database.db.selectFrom('conversation_references').select('id').where('kind', '=', 'personal').execute();
    const messages = Array.from({ length: 300 }, (_, i) => ({ idempotencyKey: `replica-${i}`, operation: 'send' as const, conversationRefId: refs[i % refs.length]!.id, activity: { type: 'message', text: `replica message ${i}` } }));
    await enqueue(a.database.db, messages, Date.now());
    await h.connector.waitFor((c) => String(c.activity.text).startsWith('replica message'), { count: 300, timeoutMs: 25_000 });
    const texts = h.connector.delivered('send').map((c) => String(c.activity.text)).filter((t) => t.startsWith('replica message'));
    expect(new Set(texts).size).toBe(300);
    expect(texts).toHaveLength(300);
  });

  it('fires each due reminder once, whichever replica sweeps first', { timeout: 20_000 }, async () => {
    const { a } = await twoReplicas();
    await h.install(megan);
    await h.say(megan, 'new Printer jammed');
    const db = a.database.db;
    const ticket = await db.selectFrom('tickets').select('id').executeTakeFirstOrThrow();
    const person = await db.selectFrom('people').select('id').where('aad_object_id', '=', megan.aadObjectId).executeTakeFirstOrThrow();
    for (let i = 0; i < 25; i++) await insertReminder(db, { ticketId: ticket.id, personId: person.id, dueAt: Date.now() - 1_000 }, Date.now());
    a.sweeper.wake();
    await expect.poll(async () => (await db.selectFrom('reminders').select('id').where('state', '=', 'sent').execute()).length, { timeout: 10_000 }).toBe(25);
    await h.connector.waitFor((c) => c.conversationId === personalConversationId(megan) && JSON.stringify(c.activity).includes('Reminder'), { count: 25, timeoutMs: 10_000 });
    const reminders = h.connector.delivered('send').filter((c) => c.conversationId === personalConversationId(megan) && JSON.stringify(c.activity).includes('Reminder'));
    expect(reminders).toHaveLength(25);
  });

  it('reads the mailbox on one replica at a time: every email becomes one ticket', { timeout: 30_000 }, async () => {
    const { a, b } = await twoReplicas({ mail: true });
    for (let i = 0; i < 40; i++) await h.graph.deliver(composeEml({ from: `c${i}@fabrikam.example`, subject: `Replica mail ${i}`, text: 'x' }));
    for (let round = 0; round < 5; round++) {
      a.mail!.sync.wake();
      b.mail!.sync.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await expect.poll(async () => (await a.database.db.selectFrom('tickets').select('id').execute()).length, { timeout: 20_000 }).toBe(40);
    await expect.poll(() => h.graph.sent.length, { timeout: 20_000 }).toBe(40);
    expect(new Set(h.graph.sent.map((s) => s.subject)).size).toBe(40);
  });

  it('takes over the work a dead replica had claimed once its lease runs out, and sends it once', { timeout: 20_000 }, async () => {
    const { a, b } = await twoReplicas();
    await h.install(alex);
    const db = a.database.db;
    const chat = await db.selectFrom('conversation_references').select('id').where('conversation_id', '=', personalConversationId(alex)).executeTakeFirstOrThrow();
    // Neither live replica sends until the third one starts: the row is the dead replica's.
    await a.outbox.stop();
    await b.outbox.stop();
    await enqueue(db, [{ idempotencyKey: 'orphan', operation: 'send', conversationRefId: chat.id, activity: { type: 'message', text: 'claimed by a replica that died' } }], Date.now());
    // A replica claims the row and dies before sending it.
    const claimed = await claimDue(db, 'postgres', { now: Date.now(), limit: 10, leaseMs: 1_000, owner: 'replica-that-died' });
    expect(claimed.map((c) => c.idempotencyKey)).toEqual(['orphan']);
    const live = await h.startReplica({ outbox: { pollIntervalMs: 100 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.connector.delivered('send').filter((c) => c.activity.text === 'claimed by a replica that died')).toHaveLength(0);
    await h.connector.waitFor((c) => c.activity.text === 'claimed by a replica that died', { timeoutMs: 5_000 });
    live.outbox.wake();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.connector.delivered('send').filter((c) => c.activity.text === 'claimed by a replica that died')).toHaveLength(1);
  });

  it('splits the Teams tenant budget between the replicas alive', async () => {
    const { a } = await twoReplicas();
    await expect.poll(async () => (await a.database.db.selectFrom('replicas').select('id').execute()).length).toBe(2);
    expect(h.logs.lines.some((l) => l.msg === 'replicas alive changed; sharing the Teams send budget between them' && l.replicas === 2)).toBe(true);
    await h.restart(); // stopping a replica takes it out of the count at once
    expect((await h.service.database.db.selectFrom('replicas').select('id').execute()).length).toBe(2);
  });
});
