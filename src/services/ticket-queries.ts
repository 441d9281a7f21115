import type { ListKind } from '../domain/commands.js';
import { isAgent, refusal, ticketRefusal, type Audience } from '../domain/roles.js';
import type { Ticket } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { countTicketsOf, findPeople, type Person } from '../store/people.js';
import { teamsOfPerson } from '../store/support-teams.js';
import { findTicket, listBreaching, listTickets, type ListCursor } from '../store/tickets.js';
import { listTimeline, type TimelineEntry } from '../store/timeline.js';
import { callerOf, type Actor } from './actors.js';
import type { Result } from './result.js';
import { noSuchTicket } from './ticket-change.js';

/** Where a list page starts: the last ticket of the page before. */
export type { ListCursor };

export interface TicketPage {
  tickets: Ticket[];
  people: Map<number, Person>;
  /** Where the next page starts, when there is one. */
  next: ListCursor | undefined;
}

export const PAGE_SIZE = 10;

/** "Breaching": already overdue, or due within this much wall-clock time. */
const BREACHING_HORIZON_MS = 2 * 3_600_000;

/** What people may see of tickets: one ticket, its history, and the lists, each as the viewer's role allows. */
export class TicketQueries {
  constructor(private readonly deps: { db: Db; clock?: () => number }) {}

  private get db(): Db {
    return this.deps.db;
  }

  /** The ticket, if the actor may see it; a requester hears the same for "not yours" and "not there". */
  async get(actor: Actor, id: number): Promise<Result<Ticket>> {
    const ticket = await findTicket(this.db, id);
    const refused = ticketRefusal(callerOf(actor), 'view', id, ticket);
    if (refused || !ticket) return { ok: false, reason: refused ?? noSuchTicket(id), denied: true };
    return { ok: true, value: ticket, notice: '' };
  }

  /** The ticket's timeline as `view` may see it (internal entries only in the agent view). */
  async history(actor: Actor, id: number, view: Audience = isAgent(actor.role) ? 'agent' : 'requester'): Promise<Result<{ ticket: Ticket; entries: TimelineEntry[]; people: Map<number, Person> }>> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const entries = await listTimeline(this.db, id, { includeInternal: view === 'agent' && isAgent(actor.role), limit: 30 });
    const people = await findPeople(this.db, entries.flatMap((e) => (e.authorId === null ? [] : [e.authorId])));
    return { ok: true, value: { ticket: found.value, entries, people }, notice: '' };
  }

  async list(actor: Actor, kind: ListKind, context: { teamId: string | null }, after?: ListCursor): Promise<Result<TicketPage>> {
    const agent = isAgent(actor.role);
    if (actor.role === 'outsider') return { ok: false, reason: refusal('outsider', 'view')! };
    if (!agent && (kind === 'unassigned' || kind === 'team' || kind === 'breaching')) return { ok: false, reason: refusal(actor.role, 'list-all')! };
    let tickets: Ticket[];
    const page = { limit: PAGE_SIZE + 1, ...(after ? { after } : {}) };
    // An agent of one support team does not see another team's tickets in any list.
    const scope = actor.otherTeams?.length ? { excludeTeamIds: actor.otherTeams } : {};
    switch (kind) {
      case 'mine':
        tickets = await listTickets(this.db, agent ? { assigneeId: actor.person.id, openOnly: true, ...scope } : { requesterId: actor.person.id, openOnly: false }, page);
        break;
      case 'open':
        tickets = await listTickets(this.db, agent ? { openOnly: true, ...scope } : { requesterId: actor.person.id, openOnly: true }, page);
        break;
      case 'unassigned':
        tickets = await listTickets(this.db, { assigneeId: null, openOnly: true, ...scope }, page);
        break;
      case 'team': {
        const teamIds = context.teamId ? [context.teamId] : await teamsOfPerson(this.db, actor.person.id);
        tickets = await listTickets(this.db, { teamIds, openOnly: true, ...scope }, page);
        break;
      }
      case 'breaching':
        // Soonest due first, breached ones at the top; one page, as the list is short by nature.
        tickets = (await listBreaching(this.db, (this.deps.clock ?? Date.now)() + BREACHING_HORIZON_MS, PAGE_SIZE, scope)).slice(0, PAGE_SIZE);
        break;
    }
    const shown = tickets.slice(0, PAGE_SIZE);
    const last = shown[shown.length - 1];
    const people = await findPeople(this.db, shown.flatMap((t) => [t.requesterId, ...(t.assigneeId === null ? [] : [t.assigneeId])]));
    return { ok: true, value: { tickets: shown, people, next: tickets.length > PAGE_SIZE && last ? { updatedAt: last.updatedAt, id: last.id } : undefined }, notice: '' };
  }

  /** A requester's own open tickets, most recently changed first (free text in a personal chat reads them). */
  openTicketsOf(actor: Actor, limit = PAGE_SIZE): Promise<Ticket[]> {
    return listTickets(this.db, { requesterId: actor.person.id, openOnly: true }, { limit });
  }

  /** How many tickets the person with this email address has opened (for `whois`). */
  ticketCountOf(email: string): Promise<number> {
    return countTicketsOf(this.db, email);
  }
}
