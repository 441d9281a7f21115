import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/services/actors.js';
import { TicketService } from '../../src/services/tickets.js';
import type { Database } from '../../src/store/database.js';
import { upsertPerson } from '../../src/store/people.js';
import { DEFAULT_SLA_POLICY, parseSlaPolicy } from '../../src/sla-config.js';
import { engines } from '../support/databases.js';

/** The write path on every engine: on Postgres the ticket row lock is what decides a race. */
describe.each(engines)('ticket service on $name', (engine) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let service: TicketService;
  let requester: Actor;
  let agents: Actor[];

  beforeEach(async () => {
    ({ database, cleanup } = await engine.open());
    const sla = parseSlaPolicy(DEFAULT_SLA_POLICY, 'built-in');
    if (!sla.ok) throw new Error(sla.problems.join('; '));
    service = new TicketService({ database, sla: sla.policy });
    const person = (n: number, role: 'agent' | 'requester') => upsertPerson(database.db, { teamsId: `29:p${n}`, aadObjectId: null, tenantId: 't', name: `Person ${n}` }, role, 1);
    requester = { person: await person(0, 'requester'), role: 'requester' };
    agents = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => ({ person: await person(n, 'agent'), role: 'agent' as const })));
  });
  afterEach(() => cleanup());

  const open = async () => {
    const created = await service.create({ actor: requester, surface: 'chat' }, { type: 'incident', subject: 'Race', description: '', priority: 'P3', teamId: null, source: 'chat', postTo: [] });
    if (!created.ok) throw new Error(created.reason);
    return created.value.id;
  };

  it('gives a ticket to exactly one of six agents taking it at once, and records one assignment', async () => {
    const id = await open();
    const results = await Promise.all(agents.map((actor) => service.take({ actor, surface: 'card' }, id)));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const winner = agents[results.findIndex((r) => r.ok)]!;
    for (const loser of results.filter((r) => !r.ok)) expect(loser).toMatchObject({ ok: false, reason: expect.stringContaining(`already taken by ${winner.person.name}`) });
    const row = await database.db.selectFrom('tickets').select(['assignee_id', 'version', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ assignee_id: winner.person.id, version: 2, status: 'open' });
    const assigned = await database.db.selectFrom('timeline_entries').select('id').where('ticket_id', '=', id).where('kind', '=', 'assigned').execute();
    expect(assigned).toHaveLength(1);
  });

  it('numbers tickets created at the same time without gaps or clashes', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => open()));
    expect(new Set(ids).size).toBe(20);
    expect(Math.max(...ids) - Math.min(...ids)).toBe(19);
  });

  it('writes the change, its timeline entry and its audit row together, or none of them', async () => {
    const id = await open();
    const refused = await service.changeStatus({ actor: agents[0]!, surface: 'chat' }, id, 'pending', 'x'.repeat(9_000));
    expect(refused.ok).toBe(false);
    const count = async (table: 'timeline_entries' | 'audit_log') => (await database.db.selectFrom(table).select('id').where('ticket_id', '=', id).execute()).length;
    expect([await count('timeline_entries'), await count('audit_log')]).toEqual([1, 1]);
    const done = await service.changeStatus({ actor: agents[0]!, surface: 'chat' }, id, 'pending');
    expect(done.ok).toBe(true);
    expect([await count('timeline_entries'), await count('audit_log')]).toEqual([2, 2]);
  });
});
