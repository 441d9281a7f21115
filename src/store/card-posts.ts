import { PostgresAdapter, sql } from 'kysely';
import type { Db } from './database.js';

/** Where each ticket's cards were posted, so every copy can be updated in place when the ticket changes. */

export interface CardPost {
  id: number;
  ticketId: number;
  conversationRefId: number;
  activityId: string;
  kind: string;
}

export async function cardPostsOfTicket(db: Db, ticketId: number): Promise<CardPost[]> {
  const rows = await db.selectFrom('card_posts').selectAll().where('ticket_id', '=', ticketId).where('live', '=', 1).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, ticketId: r.ticket_id, conversationRefId: r.conversation_ref_id, activityId: r.activity_id, kind: r.kind }));
}

/** A posted card by where it lives: e.g. the ticket whose card is the root of a channel thread. */
export async function findCardPost(db: Db, conversationRefId: number, activityId: string): Promise<{ id: number; ticketId: number } | undefined> {
  const row = await db
    .selectFrom('card_posts')
    .select(['id', 'ticket_id'])
    .where('conversation_ref_id', '=', conversationRefId)
    .where('activity_id', '=', activityId)
    .executeTakeFirst();
  return row && { id: row.id, ticketId: row.ticket_id };
}

/**
 * Records a posted card. A conversation keeps one live copy of a ticket's card of each kind: an older
 * copy there stops being updated (its buttons still work and answer with the fresh card, and a thread
 * under it still belongs to the ticket). Returns the new record's id (undefined if it was recorded before).
 */
export async function recordCardPost(
  db: Db,
  post: { ticketId: number; conversationRefId: number; activityId: string; kind: string },
  now: number,
): Promise<number | undefined> {
  // Writers of the same card slot (a ticket's card of one kind in one conversation) take turns: on
  // Postgres, two of them flipping each other's rows would otherwise deadlock.
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtext(${`card:${post.ticketId}:${post.conversationRefId}:${post.kind}`}))`.execute(db);
  }
  await db
    .updateTable('card_posts')
    .set({ live: 0 })
    .where('live', '=', 1)
    .where('ticket_id', '=', post.ticketId)
    .where('conversation_ref_id', '=', post.conversationRefId)
    .where('kind', '=', post.kind)
    .where('activity_id', '!=', post.activityId)
    .execute();
  const inserted = await db
    .insertInto('card_posts')
    .values({ ticket_id: post.ticketId, conversation_ref_id: post.conversationRefId, activity_id: post.activityId, kind: post.kind, posted_at: now, updated_at: now, live: 1 })
    .onConflict((oc) => oc.columns(['conversation_ref_id', 'activity_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id;
}

/** The channel a ticket's card was first posted to (where its thread lives), if any. */
export async function homeChannelOf(db: Db, ticketId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('card_posts')
    .innerJoin('conversation_references', 'conversation_references.id', 'card_posts.conversation_ref_id')
    .select('card_posts.conversation_ref_id')
    .where('card_posts.ticket_id', '=', ticketId)
    .where('card_posts.kind', '=', 'ticket')
    .where('conversation_references.kind', '=', 'channel')
    .where('conversation_references.removed_at', 'is', null)
    .orderBy('card_posts.id')
    .executeTakeFirst();
  return row?.conversation_ref_id;
}
