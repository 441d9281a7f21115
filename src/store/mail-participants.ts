import type { Db } from './database.js';

/**
 * The people on a ticket's mail thread. Mail naming a ticket joins it only from one of them (or with
 * proof that the sender received our mail); agents' replies go to them; our mail to them that bounced
 * is flagged here so the card and the next reply say so.
 */

export interface Participant {
  address: string;
  name: string | null;
  bouncedAt: number | null;
  bounceReason: string | null;
}

export async function addParticipants(db: Db, ticketId: number, people: ReadonlyArray<{ address: string; name: string | null }>, now: number): Promise<void> {
  const unique = new Map(people.filter((p) => p.address.includes('@')).map((p) => [p.address.trim().toLowerCase(), p.name?.trim() || null]));
  if (unique.size === 0) return;
  await db
    .insertInto('mail_participants')
    .values([...unique].map(([address, name]) => ({ ticket_id: ticketId, address, name, added_at: now, bounced_at: null, bounce_reason: null })))
    .onConflict((oc) => oc.columns(['ticket_id', 'address']).doNothing())
    .execute();
}

export async function isParticipant(db: Db, ticketId: number, address: string): Promise<boolean> {
  const row = await db.selectFrom('mail_participants').select('ticket_id').where('ticket_id', '=', ticketId).where('address', '=', address.trim().toLowerCase()).executeTakeFirst();
  return row !== undefined;
}

export async function participantsOf(db: Db, ticketId: number): Promise<Participant[]> {
  const rows = await db.selectFrom('mail_participants').selectAll().where('ticket_id', '=', ticketId).orderBy('added_at').orderBy('address').execute();
  return rows.map((r) => ({ address: r.address, name: r.name, bouncedAt: r.bounced_at === null ? null : Number(r.bounced_at), bounceReason: r.bounce_reason }));
}

/**
 * Flags an address on the ticket's thread that our mail could not reach; a later email from it clears
 * the flag (see `clearBounce`). Only people already on the thread are flagged: a report can name any
 * address, and naming one must not put it on the thread (it would be copied on replies).
 */
export async function markBounced(db: Db, ticketId: number, address: string, reason: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('mail_participants')
    .set({ bounced_at: now, bounce_reason: reason.slice(0, 500) })
    .where('ticket_id', '=', ticketId)
    .where('address', '=', address.trim().toLowerCase())
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Mail from an address proves it works again. */
export async function clearBounce(db: Db, ticketId: number, address: string): Promise<void> {
  await db.updateTable('mail_participants').set({ bounced_at: null, bounce_reason: null }).where('ticket_id', '=', ticketId).where('address', '=', address.trim().toLowerCase()).where('bounced_at', 'is not', null).execute();
}
