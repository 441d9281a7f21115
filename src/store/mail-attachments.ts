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
  /** `pending` when a scanner will look at it first; default `not_scanned`. */
  scanState?: 'pending' | 'not_scanned';
  /** Where the contents are kept and their key there (src/integrations/storage/); absent for links and rows from before. */
  store?: 'database' | 'folder' | 'azure' | 's3' | null;
  contentKey?: string | null;
  /** What the sender declared, and what the bytes show (contentType is the type served). */
  declaredType?: string | null;
  sniffedType?: string | null;
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
        store: a.store ?? null,
        content_key: a.contentKey ?? null,
        declared_type: a.declaredType ?? null,
        sniffed_type: a.sniffedType ?? null,
        purged_at: null,
        created_at: now,
        scan_state: a.scanState ?? 'not_scanned',
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

/** The two tables a ticket's files are in: email attachments, and files from Teams (ticket-attachments.ts). */
const ATTACHMENT_TABLES = ['mail_attachments', 'ticket_attachments'] as const;
export type AttachmentTable = (typeof ATTACHMENT_TABLES)[number];

export interface StoredContent {
  table: AttachmentTable;
  id: number;
  storage: 'database' | 'file';
  /** The file's path, for contents kept in ATTACHMENT_DIR before the stores. */
  location: string | null;
  /** The attachment store and key of the contents (null for rows from before the stores). */
  store: 'database' | 'folder' | 'azure' | 's3' | null;
  contentKey: string | null;
}

/**
 * Attachments of tickets closed before `closedBefore` whose contents (in the database or a file) are
 * still kept: email attachments and files from Teams alike.
 */
export async function attachmentsOfLongClosedTickets(db: Db, closedBefore: number, limit: number): Promise<StoredContent[]> {
  const due: StoredContent[] = [];
  for (const table of ATTACHMENT_TABLES) {
    if (due.length >= limit) break;
    // Both tables have the columns read here; the query is typed against one of them.
    const t = table as 'mail_attachments';
    const rows = await db
      .selectFrom(t)
      .innerJoin('tickets', 'tickets.id', `${t}.ticket_id`)
      .select([`${t}.id as id`, `${t}.storage as storage`, `${t}.location as location`, `${t}.store as store`, `${t}.content_key as content_key`])
      .where('tickets.status', '=', 'closed')
      .where('tickets.closed_at', '<', closedBefore)
      .where(`${t}.purged_at`, 'is', null)
      .where(`${t}.storage`, 'in', ['database', 'file'])
      .limit(limit - due.length)
      .execute();
    due.push(...rows.map((r) => ({ table, id: Number(r.id), storage: r.storage as StoredContent['storage'], location: r.location, store: r.store, contentKey: r.content_key })));
  }
  return due;
}

/**
 * Marks the row's contents purged, if they are not already, and returns where they were kept at that
 * moment (undefined when another run purged it first). What the caller read before may be stale: a
 * migration can have moved the row to another store meanwhile, so what is deleted afterwards is what
 * the row named when it was purged, never what was read (the copy the row now names would otherwise
 * be left behind for good, and the one released already be released twice).
 */
export async function markContentPurged(db: Db, attachment: Pick<StoredContent, 'table' | 'id'>, now: number): Promise<Omit<StoredContent, 'table' | 'id'> | undefined> {
  const row = await db
    .updateTable(attachment.table as 'mail_attachments')
    .set({ content: null, purged_at: now })
    .where('id', '=', attachment.id)
    .where('purged_at', 'is', null)
    .returning(['storage', 'location', 'store', 'content_key'])
    .executeTakeFirst();
  if (!row) return undefined;
  return { storage: row.storage as StoredContent['storage'], location: row.location, store: row.store, contentKey: row.content_key };
}
