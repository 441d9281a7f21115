import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { AttachmentView } from '../../cards/attachments-section.js';
import { linkQuery, verifyLink } from '../../domain/attachment-links.js';
import { contentDisposition, isActiveContent } from '../../domain/attachment-types.js';
import { safeFileName } from '../../domain/mail/content.js';
import { isAgent, ticketRefusal, type Audience } from '../../domain/roles.js';
import type { Ticket } from '../../domain/tickets.js';
import type { Logger } from '../../logger.js';
import type { Db } from '../../store/database.js';
import { findPerson } from '../../store/people.js';
import { addTicketAttachments, attachmentBytes, findTicketAttachment, listTicketAttachments, type NewTicketAttachment, type TicketAttachment } from '../../store/ticket-attachments.js';
import { findTicket } from '../../store/tickets.js';
import { callerOf, type Actor, type ActorDirectory } from '../actors.js';
import type { Result } from '../result.js';
import { noSuchTicket } from '../ticket-change.js';
import { keepStream, keptColumns, removeKeptFiles, TOO_LARGE, type AttachmentLimits, type KeptContent } from './store.js';

/**
 * Files on tickets, whoever brought them: keeps files handed over in Teams (with the same limits and
 * storage as email attachments), lists a ticket's files as the viewer may see them, and makes and
 * honours signed download links (src/domain/attachment-links.ts). Email attachments are kept by mail
 * intake and appear here through the same list (src/store/ticket-attachments.ts).
 */

/** A file someone handed over, before it is kept: `open` streams its bytes; without it only the link is kept. */
export interface IncomingFile {
  origin: NewTicketAttachment['origin'];
  sourceId: string | null;
  name: string;
  contentType: string;
  /** The size the sender declared, when it did. */
  declaredSize: number | null;
  open?: () => Promise<Readable>;
  /** Where the file lives (SharePoint, OneDrive), kept when its contents are not. */
  linkUrl: string | null;
}

export interface KeptFiles {
  kept: Array<{ name: string; size: number; storage: 'database' | 'file' | 'link' }>;
  /** Files that could not be kept, and why (said to the person who sent them). */
  failed: Array<{ name: string; reason: string }>;
}

export interface LinkSettings {
  secret: Buffer;
  ttlMs: number;
  /** The service's public base URL (no trailing slash). */
  baseUrl: () => string;
}

export type DownloadOutcome =
  | { status: 200; attachment: TicketAttachment; body: Readable }
  | { status: 302; attachment: TicketAttachment; location: string }
  | { status: 403 | 404 | 409 | 410; reason: string };

export interface TicketFilesDeps {
  db: Db;
  actors: Pick<ActorDirectory, 'roleOf' | 'identify'>;
  limits: AttachmentLimits;
  links: LinkSettings;
  logger: Logger;
  clock?: () => number;
  /** After files were kept on a ticket: its timeline and cards say so (TicketService.filesAdded). */
  onKept?: (ticketId: number, files: { names: readonly string[]; visibility: 'public' | 'internal' }) => Promise<unknown>;
  /** A malware scanner is configured (CLAMD_HOST): kept contents start `pending` and the scan worker is woken. */
  scanning?: { wake: () => void };
}

/** A store's signed URL is used at once by the browser that followed our redirect: a minute is plenty. */
const SIGNED_URL_TTL_MS = 60_000;

export class TicketFiles {
  constructor(private readonly deps: TicketFilesDeps) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Keeps files on a ticket the caller already changed (so the person may write on it). One file that
   * cannot be fetched does not stop the others; contents already written are removed if the rows cannot
   * be stored.
   */
  async keep(ticketId: number, files: readonly IncomingFile[], who: { authorId: number | null; visibility: 'public' | 'internal' }): Promise<KeptFiles> {
    const rows: NewTicketAttachment[] = [];
    const keptContents: KeptContent[] = [];
    const result: KeptFiles = { kept: [], failed: [] };
    for (const file of files) {
      const name = safeFileName(file.name, file.origin === 'teams-image' ? 'image' : 'file');
      const base = { ticketId, origin: file.origin, sourceId: file.sourceId, name, contentType: cleanContentType(file.contentType), visibility: who.visibility, authorId: who.authorId };
      const asLink = (size: number): NewTicketAttachment => ({ ...base, size, storage: 'link', content: null, location: file.linkUrl });
      try {
        if (!file.open || (file.declaredSize !== null && file.declaredSize > this.deps.limits.attachmentMaxBytes)) {
          if (!file.linkUrl) throw new Error(`it is larger than ${this.deps.limits.attachmentMaxBytes} bytes`);
          rows.push(asLink(file.declaredSize ?? 0));
          continue;
        }
        // Counted on the way: Teams does not say how large a file is, and one too large is still listed with its size.
        let seen = 0;
        const source = await file.open();
        const max = this.deps.limits.attachmentMaxBytes;
        const stream = Readable.from(
          (async function* () {
            const chunks = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
            for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
              seen += next.value.length;
              if (seen > max) {
                // The store stops at the limit; the rest is read and counted (not kept) first, so the
                // file is still listed with its real size.
                for (let rest = await chunks.next(); !rest.done; rest = await chunks.next()) seen += rest.value.length;
              }
              yield next.value;
            }
          })(),
        );
        const kept: KeptContent | typeof TOO_LARGE = await keepStream(stream, name, this.deps.limits);
        if (kept === TOO_LARGE) {
          if (!file.linkUrl) throw new Error(`it is larger than ${this.deps.limits.attachmentMaxBytes} bytes`);
          rows.push(asLink(Math.max(seen, file.declaredSize ?? 0)));
          continue;
        }
        keptContents.push(kept);
        rows.push({ ...base, ...keptColumns(kept, base.contentType), ...(this.deps.scanning ? { scanState: 'pending' as const } : {}) });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.deps.logger.warn({ ticketId, file: name, origin: file.origin, reason }, 'a file from Teams was not kept');
        result.failed.push({ name, reason });
      }
    }
    try {
      await addTicketAttachments(this.deps.db, rows, this.now());
    } catch (error) {
      await removeKeptFiles(keptContents);
      throw error;
    }
    result.kept = rows.map((r) => ({ name: r.name, size: r.size, storage: r.storage }));
    if (rows.some((r) => r.scanState === 'pending')) this.deps.scanning?.wake();
    if (rows.length > 0) {
      await this.deps.onKept?.(ticketId, { names: rows.map((r) => r.name), visibility: who.visibility }).catch((error: unknown) => {
        // The files are kept; only the card refresh failed, and the next change of the ticket shows them.
        this.deps.logger.warn({ err: error, ticketId }, 'files kept, but the ticket cards could not be refreshed');
      });
    }
    return result;
  }

  /** A ticket's files as `view` may see them (internal files in the agent view only), if the actor may see the ticket. */
  async list(actor: Actor, ticketId: number, view: Audience): Promise<Result<{ ticket: Ticket; attachments: TicketAttachment[] }>> {
    const ticket = await findTicket(this.deps.db, ticketId);
    const refused = ticketRefusal(callerOf(actor), 'view', ticketId, ticket);
    if (refused || !ticket) return { ok: false, reason: refused ?? noSuchTicket(ticketId), denied: true };
    const attachments = await listTicketAttachments(this.deps.db, ticketId, { includeInternal: view === 'agent' && isAgent(actor.role) });
    return { ok: true, value: { ticket, attachments }, notice: '' };
  }

  /** A download link for `actor`, who the caller checked may see the attachment; it expires after the TTL. */
  linkFor(actor: Actor, attachment: TicketAttachment): { url: string; expiresAt: number } {
    const expiresAt = Math.floor((this.now() + this.deps.links.ttlMs) / 1000);
    const query = linkQuery({ key: attachment.key, audience: actor.person.id, expiresAt }, this.deps.links.secret);
    return { url: `${this.deps.links.baseUrl()}/api/attachments/${attachment.key}?${query}`, expiresAt: expiresAt * 1000 };
  }

  /** The bytes of a kept file, or null (kept as a link, or purged by retention). */
  async contents(attachment: TicketAttachment): Promise<Readable | null> {
    if (attachment.purged) return null;
    if (attachment.store && attachment.contentKey) {
      const store = this.deps.limits.stores?.get(attachment.store);
      if (!store) {
        this.deps.logger.error({ key: attachment.key, store: attachment.store }, 'a file is in an attachment store this service has no settings for');
        return null;
      }
      return store.get(attachment.contentKey);
    }
    if (attachment.storage === 'file' && attachment.location) return createReadStream(attachment.location);
    if (attachment.storage === 'database') {
      const bytes = await attachmentBytes(this.deps.db, attachment.key);
      return bytes ? Readable.from([bytes]) : null;
    }
    return null;
  }

  /**
   * A URL of the attachment's store that serves it for SIGNED_URL_TTL_MS, as a download with its name
   * and the type the desk decided (active content as octet-stream: the store's origin has no CSP
   * sandbox); undefined for stores without signed URLs, purged files and links.
   */
  private async signedUrl(attachment: TicketAttachment): Promise<string | undefined> {
    if (attachment.purged || !attachment.store || !attachment.contentKey) return undefined;
    const store = this.deps.limits.stores?.get(attachment.store);
    if (!store?.signedUrl) return undefined;
    return store.signedUrl(attachment.contentKey, {
      ttlMs: SIGNED_URL_TTL_MS,
      contentDisposition: contentDisposition(attachment.name),
      contentType: isActiveContent(attachment.contentType) ? 'application/octet-stream' : attachment.contentType,
    });
  }

  /**
   * What `GET /api/attachments/:key` answers: the signature first (403, saying nothing of whether the
   * file exists), then the file (404), then whether the link's audience may still see it now (403: a
   * requester's ticket is theirs only, internal files are for agents, an agent who left the desk is no
   * longer one).
   */
  async open(key: string, query: { aud?: string | null; exp?: string | null; sig?: string | null }): Promise<DownloadOutcome> {
    const verdict = verifyLink(key, query, Date.now(), this.deps.links.secret);
    if (!verdict.ok) return { status: 403, reason: `link refused: ${verdict.reason}` };
    const attachment = await findTicketAttachment(this.deps.db, key);
    if (!attachment) return { status: 404, reason: 'no such file' };
    const person = await findPerson(this.deps.db, verdict.claims.audience);
    if (!person) return { status: 403, reason: 'link refused: its audience is unknown' };
    // Who they are now, as a turn of theirs would see them (role, and support teams not theirs).
    const caller = person.teamsId
      ? callerOf(await this.deps.actors.identify({ teamsId: person.teamsId, aadObjectId: person.aadObjectId, tenantId: person.tenantId, name: person.name }))
      : { role: await this.deps.actors.roleOf(person), personId: person.id };
    const ticket = await findTicket(this.deps.db, attachment.ticketId);
    const refused = ticketRefusal(caller, 'view', attachment.ticketId, ticket);
    if (refused) return { status: 403, reason: `link refused: ${refused}` };
    if (attachment.visibility === 'internal' && !isAgent(caller.role)) return { status: 403, reason: 'link refused: the file is internal to the desk' };
    const held = scanRefusal(attachment);
    if (held) return held;
    const signed = await this.signedUrl(attachment);
    if (signed) return { status: 302, attachment, location: signed };
    const body = await this.contents(attachment);
    if (!body) return { status: attachment.purged ? 410 : 404, reason: attachment.purged ? 'the contents were deleted by retention' : 'the contents are not kept here; the file is a link' };
    return { status: 200, attachment, body };
  }
}

/**
 * A ticket's files for a card many people see (the ticket card): no personal links, only SharePoint
 * addresses of shared files; `attachmentsSection(views, { getFiles: \`files ${reference}\` })` adds the
 * button that asks for links in the viewer's own name.
 */
export function sharedCardViews(attachments: readonly TicketAttachment[]): AttachmentView[] {
  return attachments.map((a, i) => ({
    number: i + 1,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    internal: a.visibility === 'internal',
    ...(a.origin === 'teams-link' && a.location ? { url: a.location } : {}),
    ...(a.purged ? { note: 'deleted by retention' } : scanNote(a) ? { note: scanNote(a) } : {}),
  }));
}

/**
 * Why a file's bytes may not be handed out yet, or ever, by any path (download link, file consent),
 * from its malware scan (src/services/attachments/scanning.ts); undefined when they may (clean, or
 * not scanned because no scanner is configured).
 */
export function scanRefusal(attachment: Pick<TicketAttachment, 'scan'>): { status: 403 | 409; reason: string } | undefined {
  const { state, verdict } = attachment.scan;
  if (state === 'pending') return { status: 409, reason: 'the file is still being scanned for malware; try again in a minute' };
  if (state === 'infected') return { status: 403, reason: `held back: malware found (${verdict ?? 'unnamed'})` };
  if (state === 'failed') return { status: 403, reason: 'held back: the file could not be scanned for malware' };
  return undefined;
}

/** What a card says of a file's scan: nothing when clean, nor for a file only linked to (no bytes here to scan). */
export function scanNote(attachment: Pick<TicketAttachment, 'scan' | 'storage'>): string | undefined {
  const { state, verdict } = attachment.scan;
  if (attachment.storage === 'link' && state === 'not_scanned') return undefined;
  if (state === 'pending') return 'scanning…';
  if (state === 'not_scanned') return 'not scanned';
  if (state === 'infected') return `malware found: ${verdict ?? 'unnamed'} — held back`;
  if (state === 'failed') return 'could not be scanned — held back';
  return undefined;
}

/** A content type as sent, if it looks like one (`type/subtype`, parameters dropped); else octet-stream. */
export function cleanContentType(value: string | null | undefined): string {
  const essence = (value ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(essence) ? essence : 'application/octet-stream';
}
