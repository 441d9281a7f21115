import type { IssueView, StateCategory, TrackerName } from '../domain/issue-trackers.js';
import type { Db, Dialect } from './database.js';

/** Linked engineering issues: what the desk last knew of each, which tickets link it, the comments carried. */

export interface TrackedIssue extends IssueView {
  updatedAt: number;
  lastPolledAt: number | null;
}

const toIssue = (row: { tracker: string; issue_key: string; title: string; url: string; state: string; state_category: string; updated_at: number; last_polled_at: number | null; changed_at: number | null }): TrackedIssue => ({
  tracker: row.tracker as TrackerName,
  key: row.issue_key,
  title: row.title,
  url: row.url,
  state: row.state,
  category: row.state_category as StateCategory,
  updatedAt: Number(row.updated_at),
  lastPolledAt: row.last_polled_at === null ? null : Number(row.last_polled_at),
  ...(row.changed_at === null ? {} : { changedAt: Number(row.changed_at) }),
});

/** On Postgres `lock` holds the row until commit, so a webhook and a poll seeing the same change apply it once. */
export async function findTrackedIssue(db: Db, tracker: TrackerName, key: string, options: { lock?: Dialect } = {}): Promise<TrackedIssue | undefined> {
  const row = await db
    .selectFrom('tracked_issues')
    .selectAll()
    .where('tracker', '=', tracker)
    .where('issue_key', '=', key)
    .$if(options.lock === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row ? toIssue(row) : undefined;
}

/**
 * True when `issue` is an older (or the same) view of the issue than the one stored, by the tracker's own
 * change time: such a view is not applied. Unknown when either lacks that time (then it is applied).
 */
export const notNewer = (issue: IssueView, stored: TrackedIssue): boolean => issue.changedAt !== undefined && stored.changedAt !== undefined && issue.changedAt <= stored.changedAt;

/** Stores the issue as seen now; returns what was stored before (undefined for a new one). */
export async function saveTrackedIssue(db: Db, issue: IssueView, now: number, options: { lock?: Dialect } = {}): Promise<TrackedIssue | undefined> {
  const before = await findTrackedIssue(db, issue.tracker, issue.key, options);
  const values = { title: issue.title.slice(0, 500), url: issue.url, state: issue.state.slice(0, 200), state_category: issue.category, updated_at: now, changed_at: issue.changedAt ?? before?.changedAt ?? null };
  if (before) await db.updateTable('tracked_issues').set(values).where('tracker', '=', issue.tracker).where('issue_key', '=', issue.key).execute();
  else await db.insertInto('tracked_issues').values({ tracker: issue.tracker, issue_key: issue.key, ...values, last_polled_at: null }).execute();
  return before;
}

export async function markPolled(db: Db, tracker: TrackerName, key: string, now: number): Promise<void> {
  await db.updateTable('tracked_issues').set({ last_polled_at: now }).where('tracker', '=', tracker).where('issue_key', '=', key).execute();
}

/** True when the link is new. */
export async function addLink(db: Db, link: { ticketId: number; tracker: TrackerName; key: string; linkedBy: number | null }, now: number): Promise<boolean> {
  const row = await db
    .insertInto('issue_links')
    .values({ ticket_id: link.ticketId, tracker: link.tracker, issue_key: link.key, linked_by: link.linkedBy, linked_at: now })
    .onConflict((oc) => oc.columns(['ticket_id', 'tracker', 'issue_key']).doNothing())
    .returning('ticket_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** True when there was such a link. */
export async function removeLink(db: Db, ticketId: number, tracker: TrackerName, key: string): Promise<boolean> {
  const result = await db.deleteFrom('issue_links').where('ticket_id', '=', ticketId).where('tracker', '=', tracker).where('issue_key', '=', key).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The issues a ticket links, oldest link first. */
export async function issuesOfTicket(db: Db, ticketId: number): Promise<TrackedIssue[]> {
  const rows = await db
    .selectFrom('issue_links')
    .innerJoin('tracked_issues', (j) => j.onRef('tracked_issues.tracker', '=', 'issue_links.tracker').onRef('tracked_issues.issue_key', '=', 'issue_links.issue_key'))
    .selectAll('tracked_issues')
    .where('issue_links.ticket_id', '=', ticketId)
    .orderBy('issue_links.linked_at')
    .execute();
  return rows.map(toIssue);
}

export async function ticketsLinking(db: Db, tracker: TrackerName, key: string): Promise<number[]> {
  const rows = await db.selectFrom('issue_links').select('ticket_id').where('tracker', '=', tracker).where('issue_key', '=', key).orderBy('ticket_id').execute();
  return rows.map((r) => Number(r.ticket_id));
}

/** Linked issues not done or canceled, least recently polled first (the poller's round). */
export async function issuesToPoll(db: Db, before: number, limit: number): Promise<TrackedIssue[]> {
  const rows = await db
    .selectFrom('tracked_issues')
    .selectAll()
    .where('state_category', 'not in', ['done', 'canceled'])
    .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb('last_polled_at', '<=', before)]))
    .where((eb) => eb.exists(eb.selectFrom('issue_links').select('ticket_id').whereRef('issue_links.tracker', '=', 'tracked_issues.tracker').whereRef('issue_links.issue_key', '=', 'tracked_issues.issue_key')))
    .orderBy('last_polled_at')
    .limit(limit)
    .execute();
  return rows.map(toIssue);
}

/** Records a comment carried; false when it was carried already (for this ticket), so it is not carried twice. */
export async function recordSyncedComment(db: Db, comment: { tracker: TrackerName; commentId: string; ticketId: number; direction: 'to-ticket' | 'to-tracker' }, now: number): Promise<boolean> {
  const row = await db
    .insertInto('synced_comments')
    .values({ tracker: comment.tracker, comment_id: comment.commentId, ticket_id: comment.ticketId, direction: comment.direction, created_at: now })
    .onConflict((oc) => oc.columns(['tracker', 'comment_id', 'ticket_id']).doNothing())
    .returning('comment_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether the desk itself posted this comment to the tracker. */
export async function isCommentWeSent(db: Db, tracker: TrackerName, commentId: string): Promise<boolean> {
  const row = await db.selectFrom('synced_comments').select('comment_id').where('tracker', '=', tracker).where('comment_id', '=', commentId).where('direction', '=', 'to-tracker').executeTakeFirst();
  return row !== undefined;
}

/**
 * Records a webhook delivery under each of its keys (the tracker's delivery id, the SHA-256 of its body);
 * false when any of them was seen before (a retry or a replay). Forgets ones older than `keepMs`.
 */
export async function firstDelivery(db: Db, tracker: TrackerName, keys: readonly string[], now: number, keepMs: number): Promise<boolean> {
  await db.deleteFrom('tracker_deliveries').where('received_at', '<', now - keepMs).execute();
  let first = true;
  // Every key is inserted even after one was seen: a replay's new delivery id is then known as well.
  for (const key of keys) {
    const row = await db
      .insertInto('tracker_deliveries')
      .values({ tracker, delivery_id: key.slice(0, 300), received_at: now })
      .onConflict((oc) => oc.columns(['tracker', 'delivery_id']).doNothing())
      .returning('delivery_id')
      .executeTakeFirst();
    if (row === undefined) first = false;
  }
  return first;
}

/** Forgets a delivery that could not be applied, so the tracker's retry of it is applied rather than refused. */
export async function forgetDelivery(db: Db, tracker: TrackerName, keys: readonly string[]): Promise<void> {
  await db.deleteFrom('tracker_deliveries').where('tracker', '=', tracker).where('delivery_id', 'in', keys.map((k) => k.slice(0, 300))).execute();
}
