import { isAgent, refusal, ticketRefusal } from '../domain/roles.js';
import { parseReference } from '../domain/ticket-reference.js';
import { isOpenStatus, STATUSES, type Ticket, type TicketStatus } from '../domain/tickets.js';
import type { Db } from '../store/database.js';
import { recentTickets, searchTickets, searchWords, type SearchScope } from '../store/ticket-search.js';
import { findTicket } from '../store/tickets.js';
import { callerOf, type Actor } from './actors.js';
import type { Result } from './result.js';

/**
 * Finding tickets from the compose box (issue 16): by reference, by words of the subject, by the
 * requester's name or email, or by status, as the caller may see them. The audience rules are the
 * lists' (ticket-queries.ts): agents find every ticket except other support teams' (`otherTeams`),
 * requesters only their own, outsiders nothing; one named by reference goes through `ticketRefusal`
 * like `show <ref>`.
 */

/** Teams shows at most 25 results per page of a search command. */
export const MAX_RESULTS = 25;
/** Paging further than this is not a search any more; it answers an empty page. */
const MAX_SKIP = 5_000;
/** What someone types in the compose box; a pasted essay is cut, not refused. */
const MAX_QUERY_LENGTH = 200;

/**
 * Words that name a status, as people say them: "open" means not yet resolved or closed, "done" either
 * of those (each read through the `is_open` indexes, already in updated order).
 */
type StatusFilter = { open: boolean } | { statuses: readonly TicketStatus[] };
const STATUS_WORDS: Record<string, StatusFilter> = {
  open: { open: true },
  new: { statuses: ['new'] },
  pending: { statuses: ['pending'] },
  waiting: { statuses: ['pending'] },
  hold: { statuses: ['on_hold'] },
  held: { statuses: ['on_hold'] },
  resolved: { statuses: ['resolved'] },
  solved: { statuses: ['resolved'] },
  closed: { statuses: ['closed'] },
  done: { open: false },
};

export interface SearchRequest {
  /** What was typed; empty for the command's first run (Teams' `initialRun`). */
  text: string;
  skip: number;
  count: number;
}

export class TicketSearch {
  constructor(private readonly deps: { db: Db }) {}

  /**
   * The page of tickets the actor may see that match, most relevant first: the ticket the text names
   * by reference, then word matches (bm25 / ts_rank), equal ones most recently updated first. Empty
   * text: the caller's own recent tickets (an agent's assigned open ones, a requester's). Text that is
   * only status words ("open", "on hold"): those tickets, most recently updated first.
   */
  async search(actor: Actor, request: SearchRequest): Promise<Result<Ticket[]>> {
    if (actor.role === 'outsider') return { ok: false, reason: refusal('outsider', 'view')!, denied: true };
    const count = Math.min(MAX_RESULTS, Math.max(0, Math.trunc(request.count)));
    const skip = Math.max(0, Math.trunc(request.skip));
    if (count === 0 || skip > MAX_SKIP || !Number.isFinite(skip)) return { ok: true, value: [], notice: '' };
    const agent = isAgent(actor.role);
    const scope: SearchScope = agent ? (actor.otherTeams?.length ? { excludeTeamIds: actor.otherTeams } : {}) : { requesterId: actor.person.id };
    const text = request.text.slice(0, MAX_QUERY_LENGTH).trim();
    const page = { skip, count };

    if (text === '') {
      const mine = agent ? { ...scope, assigneeId: actor.person.id, open: true } : scope;
      return { ok: true, value: await recentTickets(this.deps.db, mine, page), notice: '' };
    }

    const words = searchWords(text);
    const status = statusNamed(words);
    if (status) {
      // A requester's tickets of a status: naming whether it is open too lets the database walk the
      // (requester, is_open, updated) index, their few tickets, rather than every ticket of the status.
      const open = 'statuses' in status && scope.requesterId !== undefined ? sameOpenness(status.statuses) : undefined;
      return { ok: true, value: await recentTickets(this.deps.db, { ...scope, ...status, ...(open === undefined ? {} : { open }) }, page), notice: '' };
    }

    // "INC-42", "#42", "42": that ticket first (if the caller may see it), then the tickets whose
    // reference starts with the number or whose text holds it. The type prefix is dropped from the
    // words: every reference has one, so it narrows nothing and is the costliest word to look up.
    const number = parseReference(text);
    const named = number === undefined ? undefined : await this.visible(actor, number);
    const matchWords = number === undefined ? words : [String(number)];
    if (!named) return { ok: true, value: await searchTickets(this.deps.db, matchWords, scope, page), notice: '' };
    // The named ticket is the first of the whole list: the matches (without it) start one place later.
    const matches = await searchTickets(this.deps.db, matchWords, scope, { skip: Math.max(0, skip - 1), count: skip === 0 ? count - 1 : count }, named.id);
    return { ok: true, value: skip === 0 ? [named, ...matches] : matches, notice: '' };
  }

  private async visible(actor: Actor, id: number): Promise<Ticket | undefined> {
    const ticket = await findTicket(this.deps.db, id);
    return ticket && !ticketRefusal(callerOf(actor), 'view', id, ticket) ? ticket : undefined;
  }
}

/** Whether all these statuses are open ones, or all finished ones; undefined for a mix. */
function sameOpenness(statuses: readonly TicketStatus[]): boolean | undefined {
  const open = statuses.map(isOpenStatus);
  return open.every((o) => o === open[0]) ? open[0] : undefined;
}

/**
 * The tickets the words name by status, when every word names one ("on hold" is "on" + "hold"); else
 * undefined. Several words: any of their statuses ("pending on hold").
 */
function statusNamed(words: readonly string[]): StatusFilter | undefined {
  const meaningful = words.filter((w) => w !== 'on');
  const filters = meaningful.map((w) => STATUS_WORDS[w]);
  if (filters.length === 0 || filters.some((f) => f === undefined)) return undefined;
  if (filters.length === 1) return filters[0];
  const statuses = STATUSES.filter((status) => filters.some((f) => ('open' in f! ? isOpenStatus(status) === f.open : f!.statuses.includes(status))));
  return { statuses };
}
