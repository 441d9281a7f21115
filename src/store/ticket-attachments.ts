import type { Db } from './database.js';
import type { ScanState } from './tables.js';

/**
 * The one list of a ticket's files, whatever brought them: attachments of its email (mail_attachments)
 * and files handed to the bot in Teams (ticket_attachments). Each has a key that names its table
 * (`e12`, `t7`), so one download path serves both; a key alone opens nothing (see
 * src/domain/attachment-links.ts).
 */

export type AttachmentOrigin = 'email' | 'teams-file' | 'teams-image' | 'teams-link';

export interface TicketAttachment {
  key: string;
  ticketId: number;
  origin: AttachmentOrigin;
  name: string;
  contentType: string;
  size: number;
  /** Email attachments are public: they came from the requester's side of the conversation. */
  visibility: 'public' | 'internal';
  storage: 'database' | 'file' | 'link';
  /** The file's path (storage 'file') or where the file lives (storage 'link'). */
  location: string | null;
  /** The attachment store that has the contents, and their key there; null for links and rows from before the stores. */
  store: 'database' | 'folder' | 'azure' | 's3' | null;
  contentKey: string | null;
  /** The bytes contradict the type the sender declared (contentType is then what they are). */
  typeMismatch: boolean;
  /** Retention deleted the contents; the row stays so the ticket still says what was attached. */
  purged: boolean;
  createdAt: number;
  /** Where its malware scan stands (CLAMD_HOST); `verdict` is the signature found, or why the scan failed. */
  scan: { state: ScanState; verdict: string | null; scannedAt: number | null };
}

export interface NewTicketAttachment {
  ticketId: number;
  origin: Exclude<AttachmentOrigin, 'email'>;
  sourceId: string | null;
  name: string;
  contentType: string;
  size: number;
  visibility: 'public' | 'internal';
  authorId: number | null;
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

export async function addTicketAttachments(db: Db, attachments: readonly NewTicketAttachment[], now: number): Promise<void> {
  if (attachments.length === 0) return;
  await db
    .insertInto('ticket_attachments')
    .values(
      attachments.map((a) => ({
        ticket_id: a.ticketId,
        origin: a.origin,
        source_id: a.sourceId,
        name: a.name,
        content_type: a.contentType,
        size: a.size,
        visibility: a.visibility,
        author_id: a.authorId,
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

/** A ticket's files, oldest first; internal ones only when asked for. */
export async function listTicketAttachments(db: Db, ticketId: number, options: { includeInternal: boolean }): Promise<TicketAttachment[]> {
  const mail = await db
    .selectFrom('mail_attachments')
    .select(['id', 'ticket_id', 'name', 'content_type', 'size', 'storage', 'location', 'store', 'content_key', 'declared_type', 'purged_at', 'created_at', 'scan_state', 'scan_verdict', 'scanned_at'])
    .where('ticket_id', '=', ticketId)
    .execute();
  let teams = db
    .selectFrom('ticket_attachments')
    .select(['id', 'ticket_id', 'origin', 'name', 'content_type', 'size', 'visibility', 'storage', 'location', 'store', 'content_key', 'declared_type', 'purged_at', 'created_at', 'scan_state', 'scan_verdict', 'scanned_at'])
    .where('ticket_id', '=', ticketId);
  if (!options.includeInternal) teams = teams.where('visibility', '=', 'public');
  const all = [...mail.map(fromMailRow), ...(await teams.execute()).map(fromTeamsRow)];
  // By arrival; within one instant, email first, then each table's own order.
  return all.sort((a, b) => a.createdAt - b.createdAt || a.key[0]!.localeCompare(b.key[0]!) || Number(a.key.slice(1)) - Number(b.key.slice(1)));
}

/** One attachment by its key, or undefined (unknown key, or not on a ticket). */
export async function findTicketAttachment(db: Db, key: string): Promise<TicketAttachment | undefined> {
  const parsed = parseKey(key);
  if (!parsed) return undefined;
  if (parsed.table === 'mail') {
    const row = await db
      .selectFrom('mail_attachments')
      .select(['id', 'ticket_id', 'name', 'content_type', 'size', 'storage', 'location', 'store', 'content_key', 'declared_type', 'purged_at', 'created_at', 'scan_state', 'scan_verdict', 'scanned_at'])
      .where('id', '=', parsed.id)
      .executeTakeFirst();
    return row && row.ticket_id !== null ? fromMailRow(row) : undefined;
  }
  const row = await db
    .selectFrom('ticket_attachments')
    .select(['id', 'ticket_id', 'origin', 'name', 'content_type', 'size', 'visibility', 'storage', 'location', 'store', 'content_key', 'declared_type', 'purged_at', 'created_at', 'scan_state', 'scan_verdict', 'scanned_at'])
    .where('id', '=', parsed.id)
    .executeTakeFirst();
  return row ? fromTeamsRow(row) : undefined;
}

/** The bytes of an attachment kept in the database (storage 'database'), or null. */
export async function attachmentBytes(db: Db, key: string): Promise<Buffer | null> {
  const parsed = parseKey(key);
  if (!parsed) return null;
  const row =
    parsed.table === 'mail'
      ? await db.selectFrom('mail_attachments').select('content').where('id', '=', parsed.id).executeTakeFirst()
      : await db.selectFrom('ticket_attachments').select('content').where('id', '=', parsed.id).executeTakeFirst();
  return row?.content ? Buffer.from(row.content) : null;
}

/** `e12` → mail_attachments 12, `t7` → ticket_attachments 7; anything else → undefined. */
export function parseKey(key: string): { table: 'mail' | 'teams'; id: number } | undefined {
  const match = /^([et])([1-9]\d{0,14})$/.exec(key);
  if (!match) return undefined;
  return { table: match[1] === 'e' ? 'mail' : 'teams', id: Number(match[2]) };
}

type MailRow = { id: number; ticket_id: number | null; name: string; content_type: string; size: number; storage: 'database' | 'file' | 'link'; location: string | null; store: TicketAttachment['store']; content_key: string | null; declared_type: string | null; purged_at: number | null; created_at: number; scan_state: ScanState; scan_verdict: string | null; scanned_at: number | null };
type TeamsRow = Omit<MailRow, 'ticket_id'> & { ticket_id: number; origin: NewTicketAttachment['origin']; visibility: 'public' | 'internal' };

function fromMailRow(r: MailRow): TicketAttachment {
  return { key: `e${r.id}`, ticketId: Number(r.ticket_id), origin: 'email', name: r.name, contentType: r.content_type, size: Number(r.size), visibility: 'public', storage: r.storage, location: r.location, store: r.store, contentKey: r.content_key, typeMismatch: r.declared_type !== null && r.declared_type !== r.content_type, purged: r.purged_at !== null, createdAt: Number(r.created_at), scan: scanOf(r) };
}

function fromTeamsRow(r: TeamsRow): TicketAttachment {
  return { key: `t${r.id}`, ticketId: Number(r.ticket_id), origin: r.origin, name: r.name, contentType: r.content_type, size: Number(r.size), visibility: r.visibility, storage: r.storage, location: r.location, store: r.store, contentKey: r.content_key, typeMismatch: r.declared_type !== null && r.declared_type !== r.content_type, purged: r.purged_at !== null, createdAt: Number(r.created_at), scan: scanOf(r) };
}

function scanOf(r: MailRow): TicketAttachment['scan'] {
  return { state: r.scan_state, verdict: r.scan_verdict, scannedAt: r.scanned_at === null ? null : Number(r.scanned_at) };
}
