import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { safeFileName } from '../../domain/mail/content.js';
import type { InboundMail, MailAttachment } from '../../domain/mail/message.js';
import type { NewAttachment } from '../../store/mail-attachments.js';
import { collect, keepBuffer, keepStream, keptColumns, removeKeptFiles, TOO_LARGE, type AttachmentLimits, type KeptContent } from '../attachments/store.js';

export type { AttachmentLimits };

/**
 * The files of a received email, kept before the transaction that files the email (and removed again
 * when it fails): contents in ATTACHMENT_DIR or the database, or only a link to the mailbox when a file
 * is larger than the desk keeps.
 *
 * Memory stays bounded whatever people attach: the mailbox lists attachments without their contents,
 * and each file is then downloaded on its own, one after the other, and kept by the desk's attachment
 * store (src/services/attachments/store.ts, shared with files from Teams). A file is never held whole
 * as base64, and a page of mail never holds its files.
 */

export interface MailSource {
  /** The message's attachments (fetched only when the message is kept); `contentBytes` may be null. */
  attachments(mail: InboundMail): Promise<MailAttachment[]>;
  /**
   * Streams one file attachment's bytes into `consume`. A transfer that is retried calls `consume` again
   * with a new stream, so `consume` starts over each time. Without it, only files listed with their
   * `contentBytes` are stored; the others are kept as links.
   */
  download?<T>(mail: InboundMail, attachment: MailAttachment, consume: (content: Readable) => Promise<T>): Promise<T>;
  /** Where an attachment too large to store can be fetched later. */
  attachmentUrl(mail: InboundMail, attachmentId: string): string;
}

export interface StoredFile {
  row: Omit<NewAttachment, 'mailId' | 'ticketId'>;
  /** The contents kept, to remove if the email is not filed after all. */
  kept: KeptContent | undefined;
}

/** Stores each attachment in turn; if one fails, the files already written are removed before the error goes on. */
export async function storeAttachments(source: MailSource, mail: InboundMail, attachments: MailAttachment[], limits: AttachmentLimits): Promise<StoredFile[]> {
  const stored: StoredFile[] = [];
  try {
    for (const a of attachments) stored.push(await storeOne(source, mail, a, limits));
  } catch (error) {
    await removeStoredAttachments(stored);
    throw error;
  }
  return stored;
}

export async function removeStoredAttachments(files: readonly StoredFile[]): Promise<void> {
  await removeKeptFiles(files.map((f) => f.kept));
}

/**
 * The bytes of one small attachment (a bounce's delivery report, say), or null when it is not a file,
 * is larger than `maxBytes`, or cannot be downloaded from this source. At most `maxBytes` are read.
 */
export async function readSmallAttachment(source: MailSource, mail: InboundMail, attachment: MailAttachment, maxBytes: number): Promise<Buffer | null> {
  if (attachment.kind !== 'file') return null;
  if (attachment.contentBytes !== null) {
    const content = Buffer.from(attachment.contentBytes, 'base64');
    return content.length <= maxBytes ? content : null;
  }
  if (attachment.size > maxBytes || !source.download) return null;
  const read = await source.download(mail, attachment, (content) => collect(content, maxBytes));
  return read === TOO_LARGE ? null : read;
}

/**
 * The first `maxBytes` of any attachment, a returned message (Graph's item attachment, served as MIME
 * by `/$value`: https://learn.microsoft.com/en-us/graph/outlook-get-mime-message) included: what a
 * bounce says about the mail it returns is in its first lines. The rest is read and dropped.
 */
export async function readAttachmentHead(source: MailSource, mail: InboundMail, attachment: MailAttachment, maxBytes: number): Promise<Buffer | null> {
  if (attachment.contentBytes !== null) return Buffer.from(attachment.contentBytes, 'base64').subarray(0, maxBytes);
  if (attachment.kind === 'reference' || !source.download) return null;
  return source.download(mail, attachment, async (content) => {
    const chunks: Buffer[] = [];
    let size = 0;
    await pipeline(
      content,
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (size < maxBytes) chunks.push(chunk.subarray(0, maxBytes - size));
          size += chunk.length;
          done();
        },
      }),
    );
    return Buffer.concat(chunks);
  });
}

/**
 * Parts that only delivery and read reports carry (RFC 6522 multipart/report: RFC 3464 delivery status,
 * RFC 6533 for internationalised mail, RFC 8098 read receipts, and the returned message's headers).
 * They are small, and intake reads them to find the ticket whose mail bounced, so a mailbox source
 * fills in their `contentBytes` when it lists a message's attachments.
 * https://www.rfc-editor.org/rfc/rfc6522, https://www.rfc-editor.org/rfc/rfc3464#section-2
 */
const REPORT_PART = /^(message\/(global-)?(delivery-status|disposition-notification)|text\/rfc822-headers|message\/global-headers)\b/i;
export const REPORT_PART_MAX_BYTES = 512_000;

/** Lists a message's attachments, with the contents of its report parts filled in (see REPORT_PART). */
export async function attachmentsWithReportParts(source: MailSource, mail: InboundMail): Promise<MailAttachment[]> {
  const listed = await source.attachments(mail);
  const filled: MailAttachment[] = [];
  for (const a of listed) {
    if (a.contentBytes !== null || !REPORT_PART.test(a.contentType)) {
      filled.push(a);
      continue;
    }
    const content = await readSmallAttachment(source, mail, a, REPORT_PART_MAX_BYTES);
    filled.push(content ? { ...a, contentBytes: content.toString('base64') } : a);
  }
  return filled;
}

async function storeOne(source: MailSource, mail: InboundMail, a: MailAttachment, limits: AttachmentLimits): Promise<StoredFile> {
  const name = safeFileName(a.name, a.isInline ? 'inline-image' : 'attachment');
  const base = { sourceId: a.id, name, contentType: a.contentType.slice(0, 200), inline: a.isInline, contentId: a.contentId };
  const link = (size: number): StoredFile => ({ row: { ...base, size, storage: 'link', content: null, location: source.attachmentUrl(mail, a.id) }, kept: undefined });
  const stored = (kept: KeptContent): StoredFile => ({ row: { ...base, ...keptColumns(kept, base.contentType) }, kept });
  if (a.kind !== 'file') return link(a.size);

  if (a.contentBytes !== null) {
    // Listed whole (a source that sends contents with the list): kept as before.
    const content = Buffer.from(a.contentBytes, 'base64');
    const kept = await keepBuffer(content, name, limits);
    return kept === TOO_LARGE ? link(content.length) : stored(kept);
  }

  // Graph's size is at least the file's length, so one listed as too large is not downloaded at all;
  // the byte count is still checked while streaming, in case a listing understated it.
  if (a.size > limits.attachmentMaxBytes || !source.download) return link(a.size);
  const kept = await source.download(mail, a, (stream) => keepStream(stream, name, limits));
  return kept === TOO_LARGE ? link(a.size) : stored(kept);
}
