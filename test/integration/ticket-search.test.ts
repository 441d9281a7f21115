import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { recentTickets, searchTickets, searchWords, type SearchScope } from '../../src/store/ticket-search.js';
import { engines } from '../support/databases.js';

/**
 * The search index on both engines (SQLite FTS5; Postgres tsvector + GIN when TEST_DATABASE_URL is
 * set): kept in step with tickets and people by triggers alone, ranked, scoped, and unbreakable by
 * what people type.
 */
describe.each(engines)('ticket search store on $name', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
  });
  afterEach(() => cleanup());

  const db = () => database.db;
  const now = 1_800_000_000_000;

  async function person(name: string, email: string | null = null): Promise<number> {
    const row = await db()
      .insertInto('people')
      .values({ teams_id: `29:${name}`, aad_object_id: `aad-${name}`, tenant_id: 't', name, email, role: 'requester', created_at: now, updated_at: now, time_zone: null, quiet_from: null, quiet_until: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async function ticket(id: number, subject: string, requesterId: number, extra: { teamId?: string | null; status?: 'open' | 'resolved'; updatedAt?: number } = {}): Promise<void> {
    await db()
      .insertInto('tickets')
      .values({
        id,
        reference: `INC-${id}`,
        type: 'incident',
        subject,
        description: '',
        status: extra.status ?? 'open',
        priority: 'P3',
        requester_id: requesterId,
        assignee_id: null,
        team_id: extra.teamId ?? null,
        source: 'chat',
        created_at: now,
        updated_at: extra.updatedAt ?? now + id,
        first_response_at: null,
        resolved_at: null,
        closed_at: null,
        version: 1,
        is_open: extra.status === 'resolved' ? 0 : 1,
        tier: 'standard',
        sla_clocks: null,
        first_response_due_at: null,
        resolution_due_at: null,
        sla_due_at: null,
        next_sla_check_at: null,
      })
      .execute();
  }

  const find = async (text: string, scope: SearchScope = {}, page = { skip: 0, count: 25 }) => (await searchTickets(db(), searchWords(text), scope, page)).map((t) => t.id);

  it('finds tickets by words of the subject (as prefixes), by reference and by requester name or email', async () => {
    const megan = await person('Megan Bowen', 'megan.bowen@contoso.example');
    const zoe = await person('Zoë Müller', 'zoe@fabrikam.example');
    await ticket(101, 'Printer jams on the third floor', megan);
    await ticket(102, 'VPN drops every hour', zoe);
    await ticket(103, 'New printer toner please', zoe);

    expect((await find('printer')).sort()).toEqual([101, 103]);
    expect((await find('PRINT')).sort()).toEqual([101, 103]);
    expect(await find('vpn hour')).toEqual([102]);
    expect(await find('printer hour')).toEqual([]);
    expect(await find('INC-102')).toEqual([102]);
    expect(await find('megan')).toEqual([101]);
    expect((await find('fabrikam')).sort()).toEqual([102, 103]);
    expect(await find('megan.bowen@contoso.example')).toEqual([101]);
    // Diacritics fold on SQLite (unicode61 remove_diacritics); Postgres' 'simple' keeps them, so the
    // name as written is what both find.
    expect((await find('Zoë')).sort()).toEqual([102, 103]);
  });

  it('follows tickets and people through triggers: new tickets, a renamed requester, a deleted ticket', async () => {
    const who = await person('Alex Wilber', 'alex@contoso.example');
    await ticket(201, 'Laptop will not boot', who);
    expect(await find('laptop')).toEqual([201]);
    expect(await find('alex')).toEqual([201]);

    await db().updateTable('people').set({ name: 'Alexandra Wilber-Smith', email: 'aws@contoso.example' }).where('id', '=', who).execute();
    expect(await find('alexandra')).toEqual([201]);
    expect(await find('aws')).toEqual([201]);

    await db().updateTable('tickets').set({ subject: 'Laptop screen flickers' }).where('id', '=', 201).execute();
    expect(await find('flickers')).toEqual([201]);
    expect(await find('boot')).toEqual([]);

    // A status change leaves the entry as it was (and is still found).
    await db().updateTable('tickets').set({ status: 'resolved', is_open: 0 }).where('id', '=', 201).execute();
    expect(await find('flickers')).toEqual([201]);

    await db().deleteFrom('tickets').where('id', '=', 201).execute();
    expect(await find('flickers')).toEqual([]);
  });

  it('ranks a match in the reference above one in the subject, and equal matches by recency', async () => {
    const who = await person('Lee Gu');
    await ticket(4242, 'Monitor old', who, { updatedAt: now });
    await ticket(301, 'Call about 4242', who, { updatedAt: now + 10 });
    await ticket(302, 'Monitor flickers', who, { updatedAt: now + 20 });
    await ticket(303, 'Monitor dead', who, { updatedAt: now + 30 });
    // 301 is the newer, but 4242 has the number in its reference.
    expect(await find('4242')).toEqual([4242, 301]);
    // Equally good matches (same words, same lengths): most recently updated first.
    expect(await find('monitor')).toEqual([303, 302, 4242]);
  });

  it("keeps a requester to their tickets and a team-scoped agent out of other teams' tickets", async () => {
    const a = await person('Adele Vance');
    const b = await person('Diego Siciliani');
    await ticket(401, 'Badge reader broken', a, { teamId: 'red' });
    await ticket(402, 'Badge reader beeps', b, { teamId: 'blue' });
    await ticket(403, 'Badge lost', b);
    expect((await find('badge', { requesterId: a })).sort()).toEqual([401]);
    expect((await find('badge', { requesterId: b })).sort()).toEqual([402, 403]);
    expect((await find('badge', { excludeTeamIds: ['red'] })).sort()).toEqual([402, 403]);
    expect((await find('badge', { excludeTeamIds: ['red', 'blue'] })).sort()).toEqual([403]);
    expect(await find('badge adele', { requesterId: b })).toEqual([]);
  });

  it('pages without gaps or repeats, and leaves out the ticket it is told to', async () => {
    const who = await person('Patti Fernandez');
    for (let n = 0; n < 30; n++) await ticket(500 + n, `Paging test ${n}`, who);
    const first = await find('paging', {}, { skip: 0, count: 25 });
    const second = await find('paging', {}, { skip: 25, count: 25 });
    expect(first).toHaveLength(25);
    expect(second).toHaveLength(5);
    expect(new Set([...first, ...second]).size).toBe(30);
    const without = (await searchTickets(db(), ['paging'], {}, { skip: 0, count: 50 }, 510)).map((t) => t.id);
    expect(without).toHaveLength(29);
    expect(without).not.toContain(510);
  });

  it('answers hostile queries with results or nothing, never an error', async () => {
    const who = await person('Nestor Wilke');
    await ticket(601, 'Printer on fire', who);
    const hostile = [
      '"', '""', '"printer', '*', 'print*', '-printer', 'NOT printer', 'printer OR vpn', 'NEAR(printer fire)', 'NEAR', 'AND', 'OR',
      'subject:printer', '{subject}: printer', 'reference : INC', 'requester_key : r1', '^printer', '(printer', 'printer)', '+', ':*', '& | !', "'); drop table tickets; --",
      'printer:* & !fire', '\u0000', '\u202e', '🔥 printer', 'x'.repeat(10_000), `${'printer '.repeat(200)}`,
    ];
    for (const text of hostile) {
      const ids = await find(text);
      expect(Array.isArray(ids), text).toBe(true);
    }
    // Operators are plain words: NEAR is a word the ticket lacks; quotes and stars only separate words.
    expect(await find('NEAR(printer fire)')).toEqual([]);
    expect(await find('"printer" fire*')).toEqual([601]);
    expect(await find('printer OR vpn')).toEqual([]);
    expect(await find('-printer')).toEqual([601]);
    // The requester key is not searchable text: "r<id>" finds nothing of that requester.
    expect(await find(`r${who}`)).toEqual([]);
    expect(await db().selectFrom('tickets').select('id').execute()).toHaveLength(1);
  });

  it('lists recent tickets by filter, most recently updated first', async () => {
    const who = await person('Miriam Graham');
    await ticket(701, 'One', who, { updatedAt: now + 1 });
    await ticket(702, 'Two', who, { updatedAt: now + 3, status: 'resolved' });
    await ticket(703, 'Three', who, { updatedAt: now + 2 });
    expect((await recentTickets(db(), { requesterId: who }, { skip: 0, count: 25 })).map((t) => t.id)).toEqual([702, 703, 701]);
    expect((await recentTickets(db(), { requesterId: who, statuses: ['resolved'] }, { skip: 0, count: 25 })).map((t) => t.id)).toEqual([702]);
    expect((await recentTickets(db(), { requesterId: who }, { skip: 1, count: 1 })).map((t) => t.id)).toEqual([703]);
  });
});

describe('searchWords', () => {
  it('keeps only runs of letters and digits, lower-cased, at most eight words of 40 characters', () => {
    expect(searchWords('NEAR("a" b) subject:Printer -x*')).toEqual(['near', 'a', 'b', 'subject', 'printer', 'x']);
    expect(searchWords('INC-42')).toEqual(['inc', '42']);
    expect(searchWords('one two three four five six seven eight nine')).toHaveLength(8);
    expect(searchWords('y'.repeat(100))[0]).toHaveLength(40);
    expect(searchWords('  ')).toEqual([]);
  });
});
