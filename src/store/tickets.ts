import { sql } from 'kysely';
import { formatReference, type TicketType } from '../domain/ticket-reference.js';
import type { SlaColumns, TicketClocks } from '../domain/ticket-sla.js';
import { isOpenStatus, type CrmStatus, type Priority, type Ticket, type TicketSource, type TicketStatus, type TierSource } from '../domain/tickets.js';
import type { Db, Dialect } from './database.js';
import type { TicketRow } from './tables.js';

/** Ticket rows in and out; every function takes `db` or a transaction, and returns domain objects. */

export function toTicket(row: TicketRow): Ticket {
  return {
    id: row.id,
    reference: row.reference,
    type: row.type,
    subject: row.subject,
    description: row.description,
    status: row.status,
    priority: row.priority,
    requesterId: row.requester_id,
    assigneeId: row.assignee_id,
    teamId: row.team_id,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    firstResponseAt: row.first_response_at,
    resolvedAt: row.resolved_at,
    closedAt: row.closed_at,
    version: row.version,
    tier: row.tier,
    slaClocks: row.sla_clocks ? (JSON.parse(row.sla_clocks) as TicketClocks) : null,
    slaDueAt: row.sla_due_at,
    crmStatus: row.crm_status as CrmStatus,
    tierSource: row.tier_source as TierSource,
    crmTicketId: row.crm_ticket_id ?? null,
  };
}

function slaValues(sla: SlaColumns) {
  return {
    sla_clocks: JSON.stringify(sla.clocks),
    first_response_due_at: sla.firstResponseDueAt,
    resolution_due_at: sla.resolutionDueAt,
    sla_due_at: sla.dueAt,
    next_sla_check_at: sla.nextCheckAt,
  };
}

export interface NewTicket {
  type: TicketType;
  subject: string;
  description: string;
  priority: Priority;
  requesterId: number;
  teamId: string | null;
  source: TicketSource;
  tier: string;
  /** The SLA clocks as they start at creation (computed for the new ticket's priority and tier). */
  sla: SlaColumns;
  tierSource?: TierSource;
  crmStatus?: CrmStatus;
}

/** Takes the next ticket number (a row lock on the counter serializes concurrent creators) and inserts. */
export async function insertTicket(db: Db, ticket: NewTicket, now: number): Promise<Ticket> {
  const { value } = await db
    .updateTable('counters')
    .set({ value: sql`value + 1` })
    .where('name', '=', 'ticket_number')
    .returning('value')
    .executeTakeFirstOrThrow();
  const id = Number(value);
  const row = await db
    .insertInto('tickets')
    .values({
      id,
      reference: formatReference(ticket.type, id),
      type: ticket.type,
      subject: ticket.subject,
      description: ticket.description,
      status: 'new',
      priority: ticket.priority,
      requester_id: ticket.requesterId,
      assignee_id: null,
      team_id: ticket.teamId,
      source: ticket.source,
      created_at: now,
      updated_at: now,
      version: 1,
      is_open: 1,
      tier: ticket.tier,
      tier_source: ticket.tierSource ?? 'default',
      crm_status: ticket.crmStatus ?? 'none',
      ...slaValues(ticket.sla),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toTicket(row);
}

/** Reads a ticket; inside a Postgres transaction, `lock` holds the row until commit. */
export async function findTicket(db: Db, id: number, options: { lock?: Dialect } = {}): Promise<Ticket | undefined> {
  const row = await db
    .selectFrom('tickets')
    .selectAll()
    .where('id', '=', id)
    .$if(options.lock === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row && toTicket(row);
}

export interface TicketChanges {
  status?: TicketStatus;
  priority?: Priority;
  assigneeId?: number | null;
  firstResponseAt?: number;
  resolvedAt?: number | null;
  closedAt?: number | null;
  tier?: string;
  sla?: SlaColumns;
  tierSource?: TierSource;
  crmStatus?: CrmStatus;
  crmTicketId?: string;
  /** A change of type renames the reference (INC-42 → REQ-42); the number, which threads mail, stays. */
  type?: TicketType;
  teamId?: string | null;
}

/**
 * Applies changes and bumps the version, only if the ticket is still at `expectedVersion`. Returns the
 * new ticket, or undefined when someone changed it first.
 */
export async function updateTicket(db: Db, ticket: Ticket, changes: TicketChanges, now: number): Promise<Ticket | undefined> {
  const status = changes.status ?? ticket.status;
  const row = await db
    .updateTable('tickets')
    .set({
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
      ...(changes.assigneeId !== undefined ? { assignee_id: changes.assigneeId } : {}),
      ...(changes.firstResponseAt !== undefined ? { first_response_at: changes.firstResponseAt } : {}),
      ...(changes.resolvedAt !== undefined ? { resolved_at: changes.resolvedAt } : {}),
      ...(changes.closedAt !== undefined ? { closed_at: changes.closedAt } : {}),
      ...(changes.tier !== undefined ? { tier: changes.tier } : {}),
      ...(changes.sla !== undefined ? slaValues(changes.sla) : {}),
      ...(changes.tierSource !== undefined ? { tier_source: changes.tierSource } : {}),
      ...(changes.crmStatus !== undefined ? { crm_status: changes.crmStatus } : {}),
      ...(changes.crmTicketId !== undefined ? { crm_ticket_id: changes.crmTicketId } : {}),
      ...(changes.type !== undefined ? { type: changes.type, reference: formatReference(changes.type, ticket.id) } : {}),
      ...(changes.teamId !== undefined ? { team_id: changes.teamId } : {}),
      is_open: isOpenStatus(status) ? 1 : 0,
      updated_at: now,
      version: ticket.version + 1,
    })
    .where('id', '=', ticket.id)
    .where('version', '=', ticket.version)
    .returningAll()
    .executeTakeFirst();
  return row && toTicket(row);
}

/** Open tickets whose earliest running SLA clock is due by `until` (or already overdue), soonest first. */
export async function listBreaching(db: Db, until: number, limit: number, options: { excludeTeamIds?: readonly string[] } = {}): Promise<Ticket[]> {
  const rows = await db
    .selectFrom('tickets')
    .selectAll()
    .$if((options.excludeTeamIds?.length ?? 0) > 0, (qb) => qb.where((eb) => eb.or([eb('team_id', 'is', null), eb('team_id', 'not in', [...options.excludeTeamIds!])])))
    .where('is_open', '=', 1)
    .where('sla_due_at', 'is not', null)
    .where('sla_due_at', '<=', until)
    .orderBy('sla_due_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toTicket);
}

export interface ListFilter {
  assigneeId?: number | null;
  requesterId?: number;
  teamIds?: readonly string[];
  /** Tickets of these teams are left out (another support team's, for an agent of one team). */
  excludeTeamIds?: readonly string[];
  openOnly: boolean;
}

export interface ListCursor {
  updatedAt: number;
  id: number;
}

/** Newest activity first, keyset-paged: each page is one ordered index range, however deep. */
export async function listTickets(db: Db, filter: ListFilter, options: { limit: number; after?: ListCursor }): Promise<Ticket[]> {
  let query = db.selectFrom('tickets').selectAll();
  if (filter.assigneeId !== undefined) {
    query = filter.assigneeId === null ? query.where('assignee_id', 'is', null) : query.where('assignee_id', '=', filter.assigneeId);
  }
  if (filter.requesterId !== undefined) query = query.where('requester_id', '=', filter.requesterId);
  if (filter.teamIds !== undefined) {
    if (filter.teamIds.length === 0) return [];
    query = query.where('team_id', 'in', [...filter.teamIds]);
  }
  if (filter.excludeTeamIds?.length) {
    const excluded = [...filter.excludeTeamIds];
    query = query.where((eb) => eb.or([eb('team_id', 'is', null), eb('team_id', 'not in', excluded)]));
  }
  if (filter.openOnly) query = query.where('is_open', '=', 1);
  if (options.after) {
    const { updatedAt, id } = options.after;
    query = query.where((eb) => eb.or([eb('updated_at', '<', updatedAt), eb.and([eb('updated_at', '=', updatedAt), eb('id', '<', id)])]));
  }
  const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  return rows.map(toTicket);
}

/** The current version of each ticket asked about (to tell whether a posted card is behind). */
export async function ticketVersions(db: Db, ids: readonly number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('tickets').select(['id', 'version']).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.id, r.version]));
}

/** Tickets changed after `since` (an updated_at), oldest change first: what a mirror has not seen yet. */
export async function ticketsChangedSince(db: Db, since: number, limit: number): Promise<Ticket[]> {
  const rows = await db.selectFrom('tickets').selectAll().where('updated_at', '>', since).orderBy('updated_at').limit(limit).execute();
  return rows.map(toTicket);
}

/** Open tickets whose SLA is due in [from, to), soonest first; only `assigneeId`'s when given. */
export async function openTicketsDueBetween(db: Db, range: { from: number; to: number; assigneeId: number | null }, limit: number): Promise<Array<{ ticket: Ticket; dueAt: number }>> {
  const rows = await db
    .selectFrom('tickets')
    .selectAll()
    .where('is_open', '=', 1)
    .where('sla_due_at', '<', range.to)
    .where('sla_due_at', '>=', range.from)
    .$if(range.assigneeId !== null, (qb) => qb.where('assignee_id', '=', range.assigneeId))
    .orderBy('sla_due_at')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ticket: toTicket(row), dueAt: row.sla_due_at! }));
}

/** Tickets that breached an SLA target in [from, to), by number; only `assigneeId`'s when given. */
export async function ticketsBreachedBetween(db: Db, range: { from: number; to: number; assigneeId: number | null }, limit: number): Promise<Ticket[]> {
  const rows = await db
    .selectFrom('tickets')
    .selectAll()
    .where('id', 'in', (eb) => eb.selectFrom('sla_events').select('ticket_id').where('kind', '=', 'breach').where('at', '>=', range.from).where('at', '<', range.to))
    .$if(range.assigneeId !== null, (qb) => qb.where('assignee_id', '=', range.assigneeId))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toTicket);
}
