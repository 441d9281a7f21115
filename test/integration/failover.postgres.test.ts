import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { composeEml } from '../fakes/mail-message.js';
import { insertEscalation } from '../../src/store/escalations.js';
import { claimDueMail, leaseMailState } from '../../src/store/mail.js';
import { claimDue, enqueue } from '../../src/store/outbox.js';
import { insertReminder } from '../../src/store/reminders.js';
import { DEAD_AFTER_MS } from '../../src/store/replicas.js';
import { claimSlaChecks } from '../../src/store/sla.js';
import { alex, megan, personalConversationId, somebody } from '../support/activities.js';
import { postgresSchema } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Fast failover: a replica that dies (stops beating) has its claimed work taken over by a survivor
 * within 10 s of its last heartbeat, not when its leases run out; a live replica's claims stay its own.
 * Runs when TEST_DATABASE_URL is set (see vitest.config.ts).
 */
describe('failover between replicas on one Postgres', () => {
  let h: Harness;
  let drop: (() => Promise<void>) | undefined;
  let dying: pg.Client | undefined;
  afterEach(async () => {
    await dying?.end().catch(() => undefined);
    await h?.stop();
    await drop?.();
  });

  it('a survivor takes over every kind of work a dead replica had claimed within 10 s of its last heartbeat, and leaves a live one its claims', { timeout: 60_000 }, async () => {
    const schema = (await postgresSchema())!;
    drop = schema.drop;
    h = await startHarness({ mail: true, env: { DATABASE_URL: schema.url, AGENT_IDS: megan.aadObjectId } });
    const a = h.service;
    const db = a.database.db;
    const carol = somebody('Carol Probe');
    await h.install(megan, alex, carol);
    await h.say(megan, 'new Printer jammed');
    await h.say(megan, 'new Badge reader broken');
    const [jammed, badge] = await db.selectFrom('tickets').select('id').orderBy('id').execute();
    const chatOf = async (person: typeof megan) =>
      (await db.selectFrom('conversation_references').select('id').where('conversation_id', '=', personalConversationId(person)).executeTakeFirstOrThrow()).id;

    // Two acknowledgements wait to be sent: replica A reads the mailbox but its sender is stopped.
    await a.mail!.sender.stop();
    for (const i of [1, 2]) await h.graph.deliver(composeEml({ from: `customer${i}@fabrikam.example`, subject: `Failover mail ${i}`, text: 'x' }));
    a.mail!.sync.wake();
    await expect.poll(async () => (await db.selectFrom('mail_outbox').select('id').where('status', '=', 'pending').execute()).length, { timeout: 10_000 }).toBe(2);
    // A stays alive (it keeps beating) but does no more work: what it claims below stays claimed.
    await Promise.all([a.mail!.sync.stop(), a.outbox.stop(), a.sweeper.stop()]);
    const live = (await db.selectFrom('replicas').select('id').executeTakeFirstOrThrow()).id;

    // The replica about to die: it beats once, claims one of everything, and is never heard from again.
    const dead = 'replica-about-to-die';
    const lastBeat = Date.now();
    await db.insertInto('replicas').values({ id: dead, started_at: lastBeat, heartbeat_at: lastBeat }).execute();
    const now = Date.now();
    await enqueue(db, [{ idempotencyKey: 'dead-claim', operation: 'send', conversationRefId: await chatOf(alex), activity: { type: 'message', text: 'claimed by the replica that died' } }], now);
    expect(await claimDue(db, 'postgres', { now, limit: 10, leaseMs: 60_000, owner: dead })).toHaveLength(1);
    await enqueue(db, [{ idempotencyKey: 'live-claim', operation: 'send', conversationRefId: await chatOf(megan), activity: { type: 'message', text: 'claimed by the replica that lives' } }], now);
    expect(await claimDue(db, 'postgres', { now, limit: 10, leaseMs: 60_000, owner: live })).toHaveLength(1);
    const [deadMail] = await claimDueMail(db, 'postgres', { now, limit: 1, leaseMs: 120_000, owner: dead });
    const [liveMail] = await claimDueMail(db, 'postgres', { now, limit: 1, leaseMs: 120_000, owner: live });
    expect(await leaseMailState(db, `delta:${h.graph.mailbox.toLowerCase()}`, dead, now, 30_000)).toBe(true);
    await db.updateTable('tickets').set({ next_sla_check_at: now - 1 }).where('id', '=', jammed!.id).execute();
    expect(await claimSlaChecks(db, 'postgres', { now, limit: 10, leaseMs: 60_000, owner: dead })).toEqual([jammed!.id]);
    await db.updateTable('tickets').set({ next_sla_check_at: now - 1 }).where('id', '=', badge!.id).execute();
    expect(await claimSlaChecks(db, 'postgres', { now, limit: 10, leaseMs: 60_000, owner: live })).toEqual([badge!.id]);
    // Its sweep was firing a reminder and timing out an escalation, in a transaction that dies with it.
    const person = await db.selectFrom('people').select('id').where('aad_object_id', '=', megan.aadObjectId).executeTakeFirstOrThrow();
    const reminder = await insertReminder(db, { ticketId: badge!.id, personId: person.id, dueAt: now - 1_000 }, now);
    const escalation = await insertEscalation(db, { ticketId: jammed!.id, levels: 2, trigger: 'manual', reason: null, startedBy: null, timeoutAt: now - 1_000 }, now);
    dying = new pg.Client({ connectionString: schema.url });
    dying.on('error', () => undefined);
    await dying.connect();
    await dying.query('begin');
    await dying.query('select id from reminders where id = $1 for update', [reminder.id]);
    await dying.query('select id from escalations where id = $1 for update', [escalation.id]);
    // A mail arrives while the dead replica holds the mailbox cursor.
    await h.graph.deliver(composeEml({ from: 'customer3@fabrikam.example', subject: 'Failover mail 3', text: 'x' }));

    // It dies: its connection drops (Postgres rolls back the open transaction of a connection that closes,
    // https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-TERMINATION), it beats no more.
    (dying as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    // Gone for good: ending a client whose socket was destroyed can wait for an 'end' that never comes.
    dying = undefined;
    const survivor = await h.startReplica();

    const takenOver = async (done: () => Promise<boolean>) => {
      await expect.poll(done, { timeout: 15_000, interval: 100 }).toBe(true);
      return Date.now() - lastBeat;
    };
    const times = await Promise.all([
      takenOver(async () => (await db.selectFrom('outbox').select('lease_owner').where('idempotency_key', '=', 'dead-claim').executeTakeFirstOrThrow()).lease_owner !== dead),
      takenOver(async () => (await db.selectFrom('mail_outbox').select('lease_owner').where('id', '=', deadMail!.id).executeTakeFirstOrThrow()).lease_owner !== dead),
      takenOver(async () => (await db.selectFrom('mail_state').select('lease_owner').where('key', '=', `delta:${h.graph.mailbox.toLowerCase()}`).executeTakeFirstOrThrow()).lease_owner !== dead),
      takenOver(async () => (await db.selectFrom('tickets').select('sla_check_owner').where('id', '=', jammed!.id).executeTakeFirstOrThrow()).sla_check_owner !== dead),
      takenOver(async () => (await db.selectFrom('reminders').select('state').where('id', '=', reminder.id).executeTakeFirstOrThrow()).state === 'sent'),
      takenOver(async () => (await db.selectFrom('escalations').select('history').where('id', '=', escalation.id).executeTakeFirstOrThrow()).history.includes('timed-out')),
    ]);
    for (const ms of times) expect(ms).toBeLessThan(10_000);
    // Claims are taken over at a death, not before: the dead replica's leases held while it might still be beating.
    expect(Math.min(...times.slice(0, 4))).toBeGreaterThanOrEqual(DEAD_AFTER_MS);

    // Its work is done once: the message, the acknowledgement, the mail that came in meanwhile.
    await h.connector.waitFor((c) => c.activity.text === 'claimed by the replica that died', { timeoutMs: 5_000 });
    await expect.poll(() => h.graph.sent.filter((s) => s.subject.startsWith('RE: Failover mail 3 ')).length, { timeout: 5_000 }).toBe(1);
    await expect.poll(async () => (await db.selectFrom('mail_outbox').select('status').where('id', '=', deadMail!.id).executeTakeFirstOrThrow()).status).toBe('sent');

    // The survivor keeps working (a new message goes out), and the live replica's claims are still its own.
    await enqueue(db, [{ idempotencyKey: 'probe', operation: 'send', conversationRefId: await chatOf(carol), activity: { type: 'message', text: 'after the takeover' } }], Date.now());
    survivor.outbox.wake();
    survivor.sweeper.wake();
    await h.connector.waitFor((c) => c.activity.text === 'after the takeover', { timeoutMs: 5_000 });
    expect(h.connector.delivered('send').filter((c) => c.activity.text === 'claimed by the replica that died')).toHaveLength(1);
    expect(h.connector.delivered('send').filter((c) => c.activity.text === 'claimed by the replica that lives')).toHaveLength(0);
    expect((await db.selectFrom('outbox').select(['lease_owner', 'status']).where('idempotency_key', '=', 'live-claim').executeTakeFirstOrThrow())).toEqual({ lease_owner: live, status: 'pending' });
    expect((await db.selectFrom('mail_outbox').select(['lease_owner', 'status']).where('id', '=', liveMail!.id).executeTakeFirstOrThrow())).toEqual({ lease_owner: live, status: 'pending' });
    expect((await db.selectFrom('tickets').select('sla_check_owner').where('id', '=', badge!.id).executeTakeFirstOrThrow()).sla_check_owner).toBe(live);
  });
});
