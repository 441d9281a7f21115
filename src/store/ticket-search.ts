import { PostgresAdapter, sql, type RawBuilder } from 'kysely';
import type { Ticket, TicketStatus } from '../domain/tickets.js';
import type { Db } from './database.js';
import { toTicket } from './tickets.js';

/**
 * The compose box's ticket search over `ticket_search` (see migration 2026-11-22T17-00-00): FTS5 on
 * SQLite, a GIN-indexed tsvector on Postgres. What the caller may see is decided by the service
 * (services/ticket-search.ts) and passed in as a scope; this only finds and orders.
 */

/** Which tickets a search may return. */
export interface SearchScope {
  /** Only this requester's tickets. */
  requesterId?: number;
  /** Not these support teams' tickets (tickets of no team stay in). */
  excludeTeamIds?: readonly string[];
}

export interface SearchPage {
  skip: number;
  count: number;
}

/** More words than this narrow nothing a person would notice, and each costs a doclist read. */
const MAX_WORDS = 8;
/** No real word is longer; a pasted blob is cut rather than refused. */
const MAX_WORD_LENGTH = 40;

/**
 * Ranking by relevance looks at no more than this many matches, the most recent ones: a word found in
 * tens of thousands of tickets ("printer") would otherwise be scored in full on every keystroke. The
 * compose box shows 25 at a time: twenty pages of the best of them is more than anyone scrolls.
 */
export const RANKED_WINDOW = 500;

/**
 * The words of what someone typed, as the index splits text into words: runs of letters and digits.
 * Everything else (quotes, `*`, `-`, `:`, `^`, parentheses) only separates words, so no FTS5 or
 * tsquery syntax the user typed (https://www.sqlite.org/fts5.html#full_text_query_syntax,
 * https://www.postgresql.org/docs/current/datatype-textsearch.html#DATATYPE-TSQUERY) ever reaches the
 * database: `NEAR`, `AND` or `OR` are searched as the plain words they are.
 */
export function searchWords(text: string): string[] {
  const words = text.normalize('NFKC').match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  return words.slice(0, MAX_WORDS).map((w) => w.slice(0, MAX_WORD_LENGTH).toLowerCase());
}

/**
 * Every word, as a prefix of a word in the ticket's text (people search as they type), and for a
 * requester only their tickets: `requester_key : "r7" AND {reference subject requester} : ("prin"* "meg"*)`.
 */
function fts5Query(words: readonly string[], requesterId: number | undefined): string {
  // A quoted string is a plain phrase in FTS5 syntax; our words hold no quote to escape.
  const text = `{reference subject requester} : (${words.map((w) => `"${w}"*`).join(' ')})`;
  return requesterId === undefined ? text : `requester_key : "r${requesterId}" AND ${text}`;
}

/** The same for Postgres: `prin:* & meg:*` (the words hold no tsquery operator). */
function tsQuery(words: readonly string[]): string {
  return words.map((w) => `${w}:*`).join(' & ');
}

function scopeSql(scope: SearchScope): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (scope.requesterId !== undefined) parts.push(sql`t.requester_id = ${scope.requesterId}`);
  if (scope.excludeTeamIds?.length) parts.push(sql`(t.team_id is null or t.team_id not in (${sql.join([...scope.excludeTeamIds])}))`);
  return parts.length ? sql`and ${sql.join(parts, sql` and `)}` : sql``;
}

/**
 * Tickets in `scope` whose reference, subject or requester (name, email) hold every word as the start
 * of a word: best match first (the reference counts most, then the subject, then the requester), equal
 * matches most recently updated first; `except` leaves one ticket out (one shown already). Empty
 * `words`: nothing (see `recentTickets`).
 */
export async function searchTickets(db: Db, words: readonly string[], scope: SearchScope, page: SearchPage, except?: number): Promise<Ticket[]> {
  if (words.length === 0 || page.count <= 0) return [];
  let candidates: RawBuilder<{ id: number; score: number }>;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // ts_rank grows with relevance; negated so both engines sort ascending.
    candidates = sql`select s.ticket_id as id, -ts_rank(s.document, q.query) as score
      from ticket_search s
      ${scope.requesterId !== undefined || scope.excludeTeamIds?.length ? sql`join tickets t on t.id = s.ticket_id` : sql``}
      cross join (select to_tsquery('simple', ${tsQuery(words)}) as query) q
      where s.document @@ q.query ${scopeSql(scope)}
      order by s.ticket_id desc limit ${RANKED_WINDOW}`;
  } else {
    // FTS5 yields matches in rowid order itself, so the window costs no sort of all matches. The
    // requester's own tickets are narrowed inside the index (requester_key), the team rule on the row.
    const teams = scope.excludeTeamIds?.length ? scopeSql({ excludeTeamIds: scope.excludeTeamIds }) : undefined;
    candidates = sql`select s.rowid as id, s.rank as score
      from ticket_search s
      ${teams ? sql`join tickets t on t.id = s.rowid` : sql``}
      where ticket_search match ${fts5Query(words, scope.requesterId)} ${teams ?? sql``}
      order by s.rowid desc limit ${RANKED_WINDOW}`;
  }
  // Ordered as ids first, then the page's rows read whole: sorting hundreds of whole rows (SLA clocks
  // and all) to keep 25 costs more than the search itself.
  const { rows: order } = await sql<{ id: number }>`select c.id from (${candidates}) c join tickets t on t.id = c.id
    ${except === undefined ? sql`` : sql`where t.id <> ${except}`}
    order by c.score, t.updated_at desc, t.id desc
    limit ${page.count} offset ${page.skip}`.execute(db);
  if (order.length === 0) return [];
  const rows = await db.selectFrom('tickets').selectAll().where('id', 'in', order.map((r) => Number(r.id))).execute();
  const byId = new Map(rows.map((row) => [Number(row.id), row]));
  return order.flatMap((r) => {
    const row = byId.get(Number(r.id));
    return row ? [toTicket(row)] : [];
  });
}

/** Which tickets a list without words shows. */
export interface RecentFilter extends SearchScope {
  assigneeId?: number;
  /** Only open tickets (not resolved or closed), or only finished ones: one range of an `is_open` index. */
  open?: boolean;
  /** Only these statuses. */
  statuses?: readonly TicketStatus[];
}

/** Tickets in `filter`, most recently updated first: the empty query, and a query that names a status. */
export async function recentTickets(db: Db, filter: RecentFilter, page: SearchPage): Promise<Ticket[]> {
  if (page.count <= 0) return [];
  const rows = await db
    .selectFrom('tickets')
    .selectAll()
    .$if(filter.requesterId !== undefined, (qb) => qb.where('requester_id', '=', filter.requesterId!))
    .$if(filter.assigneeId !== undefined, (qb) => qb.where('assignee_id', '=', filter.assigneeId!))
    .$if(filter.open !== undefined, (qb) => qb.where('is_open', '=', filter.open ? 1 : 0))
    .$if(filter.statuses?.length === 1, (qb) => qb.where('status', '=', filter.statuses![0]!))
    .$if((filter.statuses?.length ?? 0) > 1, (qb) => qb.where('status', 'in', [...filter.statuses!]))
    .$if(Boolean(filter.excludeTeamIds?.length), (qb) => qb.where((eb) => eb.or([eb('team_id', 'is', null), eb('team_id', 'not in', [...filter.excludeTeamIds!])])))
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.count)
    .offset(page.skip)
    .execute();
  return rows.map(toTicket);
}
