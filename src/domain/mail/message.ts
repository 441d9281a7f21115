/**
 * An email as the desk sees it, whatever mailbox API delivered it. Header names are lower-cased;
 * a header that appears more than once keeps every value in order.
 */

export interface MailAddress {
  address: string;
  name: string;
}

export interface InboundMail {
  /** The mailbox's id of the message (Graph immutable id). */
  mailboxId: string;
  /** RFC 5322 Message-ID, with its angle brackets. */
  internetMessageId: string;
  /** The mailbox's conversation id: a hint only, as it changes when someone edits the subject. */
  conversationId: string | null;
  subject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  receivedAt: number;
  headers: ReadonlyMap<string, readonly string[]>;
  body: { type: 'html' | 'text'; content: string };
  hasAttachments: boolean;
}

/** An attachment as the mailbox lists it; `contentBytes` (base64) only for file attachments it sent whole. */
export interface MailAttachment {
  id: string;
  kind: 'file' | 'item' | 'reference';
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  contentBytes: string | null;
}

export function header(mail: Pick<InboundMail, 'headers'>, name: string): string | undefined {
  return mail.headers.get(name.toLowerCase())?.[0];
}

export function headerMap(entries: ReadonlyArray<{ name: string; value: string }>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { name, value } of entries) {
    const key = name.trim().toLowerCase();
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }
  return map;
}

/** Every `<id>` in a Message-ID list header (In-Reply-To, References), in order, without duplicates. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const found = value.match(/<[^<>\s]+>/g) ?? [];
  return [...new Set(found)];
}

export const normalizeAddress = (address: string): string => address.trim().toLowerCase();

/** The subject without its reply and forward prefixes, in the languages mail clients write them. */
export function baseSubject(subject: string): string {
  let s = subject.trim();
  for (;;) {
    const next = s.replace(/^(re|aw|sv|vs|fw|fwd|wg|tr|rv|antw|doorst|r|i)\s*(\[\d+\])?\s*:\s*/i, '').trim();
    if (next === s) return s;
    s = next;
  }
}

export function isForwardSubject(subject: string): boolean {
  return /^\s*(fw|fwd|wg|tr|doorst|vs)\s*:/i.test(subject);
}

/** Graph's hasAttachments leaves out inline images; an HTML body that shows `cid:` images has them too. */
export function mayHaveAttachments(mail: Pick<InboundMail, 'hasAttachments' | 'body'>): boolean {
  return mail.hasAttachments || (mail.body.type === 'html' && /\bsrc\s*=\s*["']?cid:/i.test(mail.body.content));
}
