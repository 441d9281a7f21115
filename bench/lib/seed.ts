import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import type { Priority, TicketStatus } from '../../src/domain/tickets.js';

/**
 * Fills a SQLite file with `tickets` tickets spread over `agents` agents and many requesters, a tenth
 * of them (or one in `unassignedEvery`) unassigned, most of the rest closed, as a desk that has been
 * running a while looks.
 * Returns the agents' Entra ids (for AGENT_IDS) and the numbers of unassigned open tickets.
 */
export async function seedDesk(path: string, options: { tickets: number; agents: number; requesters: number; allOpen?: boolean; unassignedEvery?: number }) {
  const database = openDatabase({ kind: 'sqlite', path });
  await migrateToLatest(database.db);
  const db = database.db;
  const now = Date.now();
  const agentAads: string[] = [];
  const people = [];
  for (let i = 0; i < options.agents; i++) {
    const aad = `00000000-0000-0000-aaaa-${String(i).padStart(12, '0')}`;
    agentAads.push(aad);
    people.push({ teams_id: `29:agent-${i}`, aad_object_id: aad, tenant_id: 'bench-tenant', name: `Agent ${i}`, email: null, role: 'agent' as const, created_at: now, updated_at: now });
  }
  for (let i = 0; i < options.requesters; i++) {
    people.push({ teams_id: `29:requester-${i}`, aad_object_id: `00000000-0000-0000-bbbb-${String(i).padStart(12, '0')}`, tenant_id: 'bench-tenant', name: `Requester ${i}`, email: null, role: 'requester' as const, created_at: now, updated_at: now });
  }
  for (let i = 0; i < people.length; i += 500) await db.insertInto('people').values(people.slice(i, i + 500)).execute();
  const ids = await db.selectFrom('people').select(['id', 'role']).orderBy('id').execute();
  const agentIds = ids.filter((p) => p.role === 'agent').map((p) => p.id);
  const requesterIds = ids.filter((p) => p.role === 'requester').map((p) => p.id);

  const unassigned: number[] = [];
  const statuses: TicketStatus[] = ['open', 'pending', 'on_hold', 'resolved', 'closed', 'closed', 'closed', 'closed'];
  const priorities: Priority[] = ['P1', 'P2', 'P3', 'P3', 'P4'];
  let rows = [];
  for (let n = 1; n <= options.tickets; n++) {
    const id = 1000 + n;
    const isUnassigned = n % (options.unassignedEvery ?? 10) === 0;
    const status = isUnassigned ? 'new' : options.allOpen ? 'open' : statuses[n % statuses.length]!;
    if (isUnassigned) unassigned.push(id);
    const at = now - (options.tickets - n) * 60_000;
    rows.push({
      id,
      reference: `INC-${id}`,
      type: 'incident' as const,
      subject: `Seeded ticket ${id}`,
      description: 'Seeded for the benchmark',
      status,
      priority: priorities[n % priorities.length]!,
      requester_id: requesterIds[n % requesterIds.length]!,
      assignee_id: isUnassigned ? null : agentIds[n % agentIds.length]!,
      team_id: null,
      source: 'chat' as const,
      created_at: at,
      updated_at: at,
      first_response_at: null,
      resolved_at: null,
      closed_at: null,
      version: 1,
      is_open: status === 'resolved' || status === 'closed' ? 0 : 1,
    });
    if (rows.length === 500) {
      await db.insertInto('tickets').values(rows).execute();
      rows = [];
    }
  }
  if (rows.length) await db.insertInto('tickets').values(rows).execute();
  await db.updateTable('counters').set({ value: 1000 + options.tickets }).where('name', '=', 'ticket_number').execute();
  await database.close();
  return { agentAads, agentIds, unassigned };
}
