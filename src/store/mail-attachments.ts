import type { Db } from './database.js';

/**
 * Attachments of received mail: stored with the message (contents in the database, in ATTACHMENT_DIR,
 * or only a link to the mailbox when too large), and their contents deleted by retention once the
 * ticket has long been closed (the row stays, so the timeline still says what was attached).
 */

export interface NewAttachment {
  mailId: number;
  ticketId: number | null;
  sourceId: string | null;
  name: string;
  contentType: string;
  size: number;
  inline: boolean;
  contentId: string | null;
  storage: 'database' | 'file' | 'link';
  content: Uint8Array | null;
  location: string | null;
}

export async function addAttachments(db: Db, attachments: readonly NewAttachment[], now: number): Promise<void> {
  if (attachments.length === 0) return;
  await db
    .insertInto('mail_attachments')
    .values(
      attachments.map((a) => ({
        mail_message_id: a.mailId,
        ticket_id: a.ticketId,
        source_id: a.sourceId,
        name: a.name,
        content_type: a.contentType,
        size: a.size,
        inline: a.inline ? 1 : 0,
        content_id: a.contentId,
        storage: a.storage,
        content: a.content,
        location: a.location,
        purged_at: null,
        created_at: now,
      })),
    )
    .execute();
}

export interface AttachmentInfo {
  id: number;
  name: string;
  contentType: string;
  size: number;
  inline: boolean;
  storage: 'database' | 'file' | 'link';
  location: string | null;
}

export async function attachmentsOfTicket(db: Db, ticketId: number): Promise<AttachmentInfo[]> {
  const rows = await db
    .selectFrom('mail_attachments')
    .select(['id', 'name', 'content_type', 'size', 'inline', 'storage', 'location'])
    .where('ticket_id', '=', ticketId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, contentType: r.content_type, size: r.size, inline: r.inline === 1, storage: r.storage, location: r.location }));
}

export async function attachmentContent(db: Db, id: number): Promise<Uint8Array | null> {
  const row = await db.selectFrom('mail_attachments').select('content').where('id', '=', id).executeTakeFirst();
  return row?.content ? new Uint8Array(row.content) : null;
}

export interface StoredContent {
  /** A mail attachment's id, or a Teams file's key (`t7`, see ticket-attachments.ts). */
  id: number | string;
  storage: 'database' | 'file';
  /** The file's path, for contents kept in ATTACHMENT_DIR. */
  location: string | null;
}

/**
 * Attachments of tickets closed before `closedBefore` whose contents (in the database or a file) are
 * still kept: email attachments and files from Teams alike.
 */
export async function attachmentsOfLongClosedTickets(db: Db, closedBefore: number, limit: number): Promise<StoredContent[]> {
  const rows = await db
    .selectFrom('mail_attachments')
    .innerJoin('tickets', 'tickets.id', 'mail_attachments.ticket_id')
    .select(['mail_attachments.id as id', 'mail_attachments.storage as storage', 'mail_attachments.location as location'])
    .where('tickets.status', '=', 'closed')
    .where('tickets.closed_at', '<', closedBefore)
    .where('mail_attachments.purged_at', 'is', null)
    .where('mail_attachments.storage', 'in', ['database', 'file'])
    .limit(limit)
    .execute();
  const mail: StoredContent[] = rows.map((r) => ({ id: r.id, storage: r.storage as StoredContent['storage'], location: r.location }));
  if (mail.length >= limit) return mail;
  const teams = await db
    .selectFrom('ticket_attachments')
    .innerJoin('tickets', 'tickets.id', 'ticket_attachments.ticket_id')
    .select(['ticket_attachments.id as id', 'ticket_attachments.storage as storage', 'ticket_attachments.location as location'])
    .where('tickets.status', '=', 'closed')
    .where('tickets.closed_at', '<', closedBefore)
    .where('ticket_attachments.purged_at', 'is', null)
    .where('ticket_attachments.storage', 'in', ['database', 'file'])
    .limit(limit - mail.length)
    .execute();
  return [...mail, ...teams.map((r) => ({ id: `t${r.id}`, storage: r.storage as StoredContent['storage'], location: r.location }))];
}

export async function markContentPurged(db: Db, attachmentId: number | string, now: number): Promise<void> {
  if (typeof attachmentId === 'string') {
    const id = Number(attachmentId.replace(/^t/, ''));
    await db.updateTable('ticket_attachments').set({ content: null, purged_at: now }).where('id', '=', id).execute();
    return;
  }
  await db.updateTable('mail_attachments').set({ content: null, purged_at: now }).where('id', '=', attachmentId).execute();
}
