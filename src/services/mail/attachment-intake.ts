import { randomUUID } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { safeFileName } from '../../domain/mail/content.js';
import type { InboundMail, MailAttachment } from '../../domain/mail/message.js';
import type { NewAttachment } from '../../store/mail-attachments.js';

/**
 * The files of a received email, kept before the transaction that files the email (and removed again
 * when it fails): contents in ATTACHMENT_DIR or the database, or only a link to the mailbox when a file
 * is larger than the desk keeps.
 */

export interface MailSource {
  /** The message's attachments (fetched only when the message is kept). */
  attachments(mail: InboundMail): Promise<MailAttachment[]>;
  /** Where an attachment too large to store can be fetched later. */
  attachmentUrl(mail: InboundMail, attachmentId: string): string;
}

export interface StoredFile {
  row: Omit<NewAttachment, 'mailId' | 'ticketId'>;
  /** The file written to ATTACHMENT_DIR, to remove if the email is not filed after all. */
  path: string | undefined;
}

export interface AttachmentLimits {
  attachmentMaxBytes: number;
  attachmentDir: string | undefined;
}

export async function storeAttachments(source: MailSource, mail: InboundMail, attachments: MailAttachment[], limits: AttachmentLimits): Promise<StoredFile[]> {
  const { attachmentMaxBytes, attachmentDir } = limits;
  const stored: StoredFile[] = [];
  for (const a of attachments) {
    const name = safeFileName(a.name, a.isInline ? 'inline-image' : 'attachment');
    const content = a.kind === 'file' && a.contentBytes !== null ? Buffer.from(a.contentBytes, 'base64') : null;
    const base = { sourceId: a.id, name, contentType: a.contentType.slice(0, 200), inline: a.isInline, contentId: a.contentId };
    if (!content || content.length > attachmentMaxBytes) {
      stored.push({ row: { ...base, size: content?.length ?? a.size, storage: 'link', content: null, location: source.attachmentUrl(mail, a.id) }, path: undefined });
    } else if (attachmentDir) {
      // Customers' files: readable by the service's user only, whatever the process umask.
      await mkdir(attachmentDir, { recursive: true, mode: 0o700 });
      const path = join(attachmentDir, `${randomUUID()}-${name}`);
      await writeFile(path, content, { flag: 'wx', mode: 0o600 });
      stored.push({ row: { ...base, size: content.length, storage: 'file', content: null, location: path }, path });
    } else {
      stored.push({ row: { ...base, size: content.length, storage: 'database', content, location: null }, path: undefined });
    }
  }
  return stored;
}

export async function removeStoredAttachments(files: readonly StoredFile[]): Promise<void> {
  await Promise.all(files.flatMap((f) => (f.path ? [unlink(f.path).catch(() => undefined)] : [])));
}
