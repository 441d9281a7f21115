import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteState, readState, writeState } from '../../src/store/bot-state.js';
import {
  findPersonalConversation,
  forgetTeam,
  markConversationStale,
  rememberConversation,
  type ConversationToRemember,
} from '../../src/store/conversation-references.js';
import { migrateToLatest, type Database } from '../../src/store/database.js';
import * as outbox from '../../src/store/outbox.js';
import { findAgentsByName } from '../../src/store/people.js';
import { engines } from '../support/databases.js';

const personal = (n: number, overrides: Partial<ConversationToRemember> = {}): ConversationToRemember => ({
  conversationId: `a:personal-${n}`,
  kind: 'personal',
  tenantId: 'tenant-1',
  teamId: null,
  userTeamsId: `29:user-${n}`,
  userAadObjectId: `aad-${n}`,
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  reference: { conversation: { id: `a:personal-${n}` }, bot: { id: '28:bot' } },
  ...overrides,
});

describe.each(engines)('store on $name', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
  });
  afterEach(() => cleanup());

  const db = () => database.db;

  it('migrates once: a second run applies nothing and the schema is usable', async () => {
    expect(await migrateToLatest(db())).toEqual([]);
    await database.ping();
    const counter = await db().selectFrom('counters').selectAll().where('name', '=', 'ticket_number').executeTakeFirstOrThrow();
    expect(counter.value).toBe(1000);
  });

  it('enforces foreign keys, so a ticket cannot point at a person who does not exist', async () => {
    const now = Date.now();
    await expect(
      db()
        .insertInto('tickets')
        .values({ id: 1, reference: 'INC-1', type: 'incident', subject: 's', description: '', status: 'new', priority: 'P3', requester_id: 999, source: 'chat', created_at: now, updated_at: now, version: 1, is_open: 1 })
        .execute(),
    ).rejects.toThrow(/foreign key/i);
  });

  it('finds agents by the start of their name, a word of it, or their email, with typed wildcards taken literally', async () => {
    const now = Date.now();
    const person = (name: string, email: string, role: 'agent' | 'admin' | 'requester') => ({ name, email, role, created_at: now, updated_at: now });
    await db()
      .insertInto('people')
      .values([person('Megan Bowen', 'megan@contoso.example', 'agent'), person('Adele Vance', 'adele@contoso.example', 'admin'), person('Meg Ryan', 'm_r@contoso.example', 'requester'), person('100% Agent', 'pct@contoso.example', 'agent')])
      .execute();
    const names = async (text: string) => (await findAgentsByName(db(), text)).map((p) => p.name);
    expect(await names('meg')).toEqual(['Megan Bowen']);
    expect(await names('VANCE')).toEqual(['Adele Vance']);
    expect(await names('adele@')).toEqual(['Adele Vance']);
    expect(await names('100%')).toEqual(['100% Agent']);
    expect(await names('%')).toEqual([]);
    expect(await names('_')).toEqual([]);
  });

  it('rejects values outside the allowed sets', async () => {
    const now = Date.now();
    await expect(
      db().insertInto('people').values({ name: 'x', role: 'superuser' as 'admin', created_at: now, updated_at: now }).execute(),
    ).rejects.toThrow(/check/i);
  });

  it('keeps epoch-millisecond times as numbers on both engines', async () => {
    const at = 1_790_000_000_123;
    await rememberConversation(db(), personal(1), at);
    const row = await db().selectFrom('conversation_references').select(['installed_at']).executeTakeFirstOrThrow();
    expect(row.installed_at).toBe(at);
    expect(typeof row.installed_at).toBe('number');
  });

  describe('conversation references', () => {
    it('is new the first time, not the second, and new again after removal', async () => {
      expect((await rememberConversation(db(), personal(1), 1)).isNew).toBe(true);
      expect((await rememberConversation(db(), personal(1), 2)).isNew).toBe(false);
      await db().updateTable('conversation_references').set({ removed_at: 3 }).execute();
      expect((await rememberConversation(db(), personal(1), 4)).isNew).toBe(true);
      expect(await db().selectFrom('conversation_references').selectAll().execute()).toHaveLength(1);
    });

    it("finds a person's personal chat by either id, and shows when Teams refused it", async () => {
      const { id } = await rememberConversation(db(), personal(7), 1);
      expect((await findPersonalConversation(db(), { aadObjectId: 'aad-7' }))?.id).toBe(id);
      expect((await findPersonalConversation(db(), { teamsId: '29:user-7' }))?.id).toBe(id);
      expect(await findPersonalConversation(db(), { aadObjectId: 'aad-8' })).toBeUndefined();
      await markConversationStale(db(), id, 'forbidden 403', 2);
      expect((await findPersonalConversation(db(), { aadObjectId: 'aad-7' }))?.staleReason).toBe('forbidden 403');
      await rememberConversation(db(), personal(7), 3);
      expect((await findPersonalConversation(db(), { aadObjectId: 'aad-7' }))?.staleReason).toBeNull();
    });

    it('forgets every channel of a team at once', async () => {
      const channel = (id: string) => personal(0, { conversationId: id, kind: 'channel', teamId: '19:team', userTeamsId: null, userAadObjectId: null });
      await rememberConversation(db(), channel('19:general'), 1);
      await rememberConversation(db(), channel('19:support'), 1);
      await rememberConversation(db(), personal(2), 1);
      expect(await forgetTeam(db(), '19:team', 5)).toBe(2);
      const live = await db().selectFrom('conversation_references').select('conversation_id').where('removed_at', 'is', null).execute();
      expect(live.map((r) => r.conversation_id)).toEqual(['a:personal-2']);
    });
  });

  describe('outbox', () => {
    const message = (key: string, conversationRefId: number): outbox.OutboxMessage => ({
      idempotencyKey: key,
      operation: 'send',
      conversationRefId,
      activity: { type: 'message', text: key },
    });

    it('stores a notification once however often it is enqueued', async () => {
      const { id } = await rememberConversation(db(), personal(1), 1);
      await outbox.enqueue(db(), [message('k1', id), message('k1', id)], 10);
      await outbox.enqueue(db(), [message('k1', id)], 11);
      expect(await db().selectFrom('outbox').selectAll().execute()).toHaveLength(1);
    });

    it('enqueues inside the transaction of the change that caused it, and not at all if it rolls back', async () => {
      const { id } = await rememberConversation(db(), personal(1), 1);
      await expect(
        db().transaction().execute(async (tx) => {
          await outbox.enqueue(tx, [message('rolled-back', id)], 10);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await outbox.findOutboxRow(db(), 'rolled-back')).toBeUndefined();
    });

    it('claims only the oldest pending row of each conversation, only when due, and not while leased', async () => {
      const a = (await rememberConversation(db(), personal(1), 1)).id;
      const b = (await rememberConversation(db(), personal(2), 1)).id;
      await outbox.enqueue(db(), [message('a1', a), message('a2', a), message('b1', b)], 100);
      await outbox.enqueue(db(), [message('later', b)], 500);

      const first = await outbox.claimDue(db(), database.dialect, { now: 100, limit: 10, leaseMs: 1_000, owner: 'w1' });
      expect(first.map((m) => m.idempotencyKey)).toEqual(['a1', 'b1']);
      // Leased rows are not handed to a second worker, and a2 still waits behind a1.
      expect(await outbox.claimDue(db(), database.dialect, { now: 200, limit: 10, leaseMs: 1_000, owner: 'w2' })).toEqual([]);

      await outbox.markSent(db(), first[0]!, 'act-1', 300);
      const second = await outbox.claimDue(db(), database.dialect, { now: 300, limit: 10, leaseMs: 1_000, owner: 'w2' });
      expect(second.map((m) => m.idempotencyKey)).toEqual(['a2']);
    });

    it('lets a message held for later wait without holding up the conversation, unlike one being retried', async () => {
      const a = (await rememberConversation(db(), personal(1), 1)).id;
      await outbox.enqueue(db(), [{ ...message('held', a), notBefore: 10_000 }, message('now', a)], 100);
      const first = await outbox.claimDue(db(), database.dialect, { now: 100, limit: 10, leaseMs: 1_000, owner: 'w' });
      expect(first.map((m) => m.idempotencyKey)).toEqual(['now']);
      await outbox.defer(db(), first[0]!.id, 5_000);
      await outbox.enqueue(db(), [message('after', a)], 200);
      // "now" waits for a rate limit until 5000: "after" must not overtake it.
      expect(await outbox.claimDue(db(), database.dialect, { now: 300, limit: 10, leaseMs: 1_000, owner: 'w' })).toEqual([]);
      // Once its hold is over, the held message takes its place in the queue again: first.
      expect((await outbox.claimDue(db(), database.dialect, { now: 10_000, limit: 10, leaseMs: 1_000, owner: 'w' })).map((m) => m.idempotencyKey)).toEqual(['held']);
    });

    it("measures a hold on the desk's clock, whatever the wall clock says", async () => {
      const a = (await rememberConversation(db(), personal(1), 1)).id;
      await outbox.enqueue(db(), [{ ...message('held', a), notBefore: 10_000 }], 100);
      // The wall clock is far past the hold's end, the desk's clock is not: still held.
      expect(await outbox.claimDue(db(), database.dialect, { now: 1e12, holdNow: 4_000, limit: 10, leaseMs: 1_000, owner: 'w' })).toEqual([]);
      // Due when the desk's clock reaches 10,000: 6,000 ms from now on the wall clock.
      expect(await outbox.nextDueAt(db(), { now: 1e12, holdNow: 4_000 })).toBe(1e12 + 6_000);
      expect((await outbox.claimDue(db(), database.dialect, { now: 1e12, holdNow: 10_000, limit: 10, leaseMs: 1_000, owner: 'w' })).map((m) => m.idempotencyKey)).toEqual(['held']);
    });

    it('hands a row over when its lease runs out (its worker died)', async () => {
      const a = (await rememberConversation(db(), personal(1), 1)).id;
      await outbox.enqueue(db(), [message('orphan', a)], 100);
      await outbox.claimDue(db(), database.dialect, { now: 100, limit: 10, leaseMs: 1_000, owner: 'dead' });
      expect(await outbox.claimDue(db(), database.dialect, { now: 1_099, limit: 10, leaseMs: 1_000, owner: 'alive' })).toEqual([]);
      const taken = await outbox.claimDue(db(), database.dialect, { now: 1_100, limit: 10, leaseMs: 1_000, owner: 'alive' });
      expect(taken.map((m) => m.idempotencyKey)).toEqual(['orphan']);
    });

    it('retries later, dead-letters with a reason, and reports depth', async () => {
      const a = (await rememberConversation(db(), personal(1), 1)).id;
      const b = (await rememberConversation(db(), personal(2), 1)).id;
      await outbox.enqueue(db(), [message('retry', a), message('dead', b)], 100);
      const [retry, dead] = await outbox.claimDue(db(), database.dialect, { now: 100, limit: 10, leaseMs: 1_000, owner: 'w' });
      await outbox.scheduleRetry(db(), retry!.id, 5_000, 'transient 503');
      await outbox.markDead(db(), dead!.id, 'permanent 400');
      expect(await outbox.nextDueAt(db(), { now: 100 })).toBe(5_000);
      expect(await outbox.claimDue(db(), database.dialect, { now: 4_999, limit: 10, leaseMs: 1_000, owner: 'w' })).toEqual([]);
      const again = await outbox.claimDue(db(), database.dialect, { now: 5_000, limit: 10, leaseMs: 1_000, owner: 'w' });
      expect(again).toMatchObject([{ idempotencyKey: 'retry', attempts: 1 }]);
      expect(await outbox.outboxDepth(db())).toEqual({ pending: 1, dead: 1, oldestPendingAt: 100 });
    });

    it('records a sent ticket card where it landed, once', async () => {
      const ref = (await rememberConversation(db(), personal(1), 1)).id;
      const person = await db().insertInto('people').values({ name: 'A', role: 'requester', created_at: 1, updated_at: 1 }).returning('id').executeTakeFirstOrThrow();
      await db()
        .insertInto('tickets')
        .values({ id: 1001, reference: 'INC-1001', type: 'incident', subject: 's', description: '', status: 'new', priority: 'P3', requester_id: person.id, source: 'chat', created_at: 1, updated_at: 1, version: 1, is_open: 1 })
        .execute();
      await outbox.enqueue(db(), [{ ...message('card', ref), ticketId: 1001, cardKind: 'ticket' }], 100);
      const [claimed] = await outbox.claimDue(db(), database.dialect, { now: 100, limit: 10, leaseMs: 1_000, owner: 'w' });
      await outbox.markSent(db(), claimed!, 'act-77', 200);
      await outbox.markSent(db(), claimed!, 'act-77', 201);
      const posts = await db().selectFrom('card_posts').selectAll().execute();
      expect(posts).toMatchObject([{ ticket_id: 1001, conversation_ref_id: ref, activity_id: 'act-77', kind: 'ticket' }]);
    });
  });

  describe('bot turn state', () => {
    it('reads what was written, overwrites (last writer wins) and deletes', async () => {
      await writeState(db(), new Map([['msteams/bot/conversations/c1', { step: 1 }]]), 1);
      await writeState(db(), new Map([['msteams/bot/conversations/c1', { step: 2 }], ['msteams/bot/users/u1', { tz: 'Europe/Paris' }]]), 2);
      const read = await readState(db(), ['msteams/bot/conversations/c1', 'msteams/bot/users/u1', 'missing']);
      expect(read.get('msteams/bot/conversations/c1')?.value).toEqual({ step: 2 });
      expect(read.get('msteams/bot/users/u1')?.value).toEqual({ tz: 'Europe/Paris' });
      expect(read.has('missing')).toBe(false);
      await deleteState(db(), ['msteams/bot/users/u1']);
      expect((await readState(db(), ['msteams/bot/users/u1'])).size).toBe(0);
    });
  });

  it('runs statements in a transaction atomically', async () => {
    await expect(
      db().transaction().execute(async (tx) => {
        await tx.updateTable('counters').set({ value: sql`value + 1` }).where('name', '=', 'ticket_number').execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await db().selectFrom('counters').select('value').executeTakeFirstOrThrow()).value).toBe(1000);
  });
});
