import type { Db } from './database.js';

/** The ticket's history as people read it, and the audit log as operators read it. */

export type Visibility = 'public' | 'internal';
export type Surface = 'chat' | 'card' | 'email' | 'system' | 'webhook' | 'slack';

export interface TimelineEntry {
  id: number;
  ticketId: number;
  at: number;
  kind: string;
  visibility: Visibility;
  authorId: number | null;
  body: string;
  /** An email whose sender claimed to be an agent or a colleague, unconfirmed: not to be shown as theirs. */
  senderNotVerified: boolean;
}

export async function addTimelineEntry(
  db: Db,
  entry: { ticketId: number; at: number; kind: string; visibility: Visibility; authorId: number | null; body: string; data?: unknown },
): Promise<void> {
  await db
    .insertInto('timeline_entries')
    .values({
      ticket_id: entry.ticketId,
      at: entry.at,
      kind: entry.kind,
      visibility: entry.visibility,
      author_id: entry.authorId,
      body: entry.body,
      data: entry.data === undefined ? null : JSON.stringify(entry.data),
    })
    .execute();
}

/** Oldest first; requesters see only public entries. */
export async function listTimeline(db: Db, ticketId: number, options: { includeInternal: boolean; limit: number }): Promise<TimelineEntry[]> {
  const rows = await db
    .selectFrom('timeline_entries')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .$if(!options.includeInternal, (qb) => qb.where('visibility', '=', 'public'))
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit)
    .execute();
  return rows.reverse().map((row) => ({
    id: row.id,
    ticketId: row.ticket_id,
    at: row.at,
    kind: row.kind,
    visibility: row.visibility,
    authorId: row.author_id,
    body: row.body,
    senderNotVerified: row.data !== null && row.data.includes('"senderCheck"') && hasSenderCheck(row.data),
  }));
}

function hasSenderCheck(data: string): boolean {
  try {
    return Boolean((JSON.parse(data) as { email?: { senderCheck?: unknown } })?.email?.senderCheck);
  } catch {
    return false;
  }
}

export async function addAudit(
  db: Db,
  entry: { at: number; actorId: number | null; action: string; ticketId: number | null; surface: Surface; details?: unknown },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      actor_id: entry.actorId,
      action: entry.action,
      ticket_id: entry.ticketId,
      surface: entry.surface,
      details: entry.details === undefined ? null : JSON.stringify(entry.details),
    })
    .execute();
}
