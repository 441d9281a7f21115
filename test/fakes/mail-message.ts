import { createHash, randomUUID } from 'node:crypto';
import PostalMime, { type Address, type Email } from 'postal-mime';

/**
 * Turns a raw RFC 5322 message into the JSON Graph serves for it, the way Exchange does: decoded
 * subject and addresses, an HTML body when there is one, every header in internetMessageHeaders, a
 * conversationId derived from the subject (Exchange's changes when the subject is edited), and the
 * attachments (inline images included) as fileAttachments.
 */

export interface FakeAttachment {
  '@odata.type': '#microsoft.graph.fileAttachment' | '#microsoft.graph.itemAttachment';
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  contentBytes?: string;
}

export interface FakeMessage {
  id: string;
  internetMessageId: string;
  conversationId: string;
  subject: string;
  from: { emailAddress: { name: string; address: string } } | null;
  toRecipients: Array<{ emailAddress: { name: string; address: string } }>;
  ccRecipients: Array<{ emailAddress: { name: string; address: string } }>;
  receivedDateTime: string;
  body: { contentType: 'html' | 'text'; content: string };
  hasAttachments: boolean;
  internetMessageHeaders: Array<{ name: string; value: string }>;
}

export interface ParsedMail {
  message: FakeMessage;
  attachments: FakeAttachment[];
}

const recipient = (a: { name?: string; address?: string }) => ({ emailAddress: { name: a.name || a.address || '', address: a.address ?? '' } });
const flatten = (list: Address[] | undefined) => (list ?? []).flatMap((a) => (a.group ? a.group : [a]));

export function conversationIdFor(subject: string): string {
  const base = subject.replace(/^((re|aw|sv|fw|fwd|wg)\s*:\s*)+/i, '').trim().toLowerCase();
  return `AAQk${createHash('sha1').update(base).digest('base64url').slice(0, 22)}=`;
}

export async function parseEml(raw: string | Buffer, received = new Date()): Promise<ParsedMail> {
  const email: Email = await PostalMime.parse(typeof raw === 'string' ? raw : new Uint8Array(raw), { attachmentEncoding: 'base64' });
  const subject = email.subject ?? '';
  const id = `AAMk${randomUUID().replace(/-/g, '')}`;
  const attachments: FakeAttachment[] = email.attachments.map((a, i) => {
    const content = typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('base64');
    return {
      '@odata.type': a.mimeType === 'message/rfc822' ? '#microsoft.graph.itemAttachment' : '#microsoft.graph.fileAttachment',
      id: `${id}-att${i}`,
      name: a.filename ?? (a.mimeType === 'message/rfc822' ? 'message.eml' : `attachment-${i}`),
      contentType: a.mimeType,
      size: Buffer.from(content, 'base64').length,
      isInline: a.disposition === 'inline' || (a.related === true && Boolean(a.contentId)),
      contentId: a.contentId?.replace(/^<|>$/g, '') ?? null,
      ...(a.mimeType === 'message/rfc822' ? {} : { contentBytes: content }),
    };
  });
  const from = flatten(email.from ? [email.from] : [])[0];
  return {
    message: {
      id,
      internetMessageId: email.messageId ?? `<${randomUUID()}@fake.example>`,
      conversationId: conversationIdFor(subject),
      subject,
      from: from?.address ? recipient(from) : null,
      toRecipients: flatten(email.to).map(recipient),
      ccRecipients: flatten(email.cc).map(recipient),
      receivedDateTime: received.toISOString(),
      body: email.html ? { contentType: 'html', content: email.html } : { contentType: 'text', content: email.text ?? '' },
      // As in Graph, inline images do not count.
      hasAttachments: attachments.some((a) => !a.isInline),
      internetMessageHeaders: email.headers.map((h) => ({ name: h.originalKey ?? h.key, value: h.value })),
    },
    attachments,
  };
}

/** A plain message written by a test, as a raw email (so it goes through the same parser). */
export function composeEml(mail: {
  from: string;
  fromName?: string;
  to?: string;
  cc?: string[];
  subject: string;
  text?: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
  headers?: Record<string, string>;
  attachments?: Array<{ name: string; type: string; content: Buffer; inline?: boolean; cid?: string }>;
  /**
   * The Authentication-Results Exchange Online stamps on mail from outside: by default what it writes
   * for a sender whose domain publishes DMARC and passes it; `null` for none (mail from inside, or
   * another server); a string for any other verdict.
   */
  authentication?: string | null;
}): string {
  const messageId = mail.messageId ?? `<${randomUUID()}@customer.example>`;
  const domain = mail.from.split('@')[1] ?? 'invalid';
  const authentication =
    mail.authentication === undefined
      ? `spf=pass (sender IP is 203.0.113.25) smtp.mailfrom=${domain}; dkim=pass (signature was verified) header.d=${domain};dmarc=pass action=none header.from=${domain};compauth=pass reason=100`
      : mail.authentication;
  const encode = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v).toString('base64')}?=`);
  const head = [
    ...(authentication !== null ? [`Authentication-Results: ${authentication}`] : []),
    `From: ${mail.fromName ? `${encode(mail.fromName)} ` : ''}<${mail.from}>`,
    `To: <${mail.to ?? 'support@contoso.example'}>`,
    ...(mail.cc?.length ? [`Cc: ${mail.cc.map((a) => `<${a}>`).join(', ')}`] : []),
    `Subject: ${encode(mail.subject)}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    ...(mail.inReplyTo ? [`In-Reply-To: ${mail.inReplyTo}`] : []),
    ...(mail.references ? [`References: ${mail.references}`] : []),
    ...Object.entries(mail.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  const boundary = `b-${randomUUID()}`;
  const parts: string[] = [];
  const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64').replace(/.{76}/g, '$&\r\n');
  if (mail.text !== undefined) parts.push(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(mail.text)}`);
  if (mail.html !== undefined) parts.push(`Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(mail.html)}`);
  for (const a of mail.attachments ?? []) {
    parts.push(
      `Content-Type: ${a.type}; name="${a.name}"\r\nContent-Disposition: ${a.inline ? 'inline' : 'attachment'}; filename="${a.name}"\r\n${a.cid ? `Content-ID: <${a.cid}>\r\n` : ''}Content-Transfer-Encoding: base64\r\n\r\n${b64(a.content)}`,
    );
  }
  if (parts.length === 1 && !mail.attachments?.length) return `${head.join('\r\n')}\r\n${parts[0]}\r\n`;
  return `${head.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
}
