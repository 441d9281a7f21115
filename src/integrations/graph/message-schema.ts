import { z } from 'zod';
import { headerMap, type InboundMail } from '../../domain/mail/message.js';

/**
 * A Graph message, parsed at the edge: what the desk needs must be there and well-formed, or the
 * message is recorded as unreadable (poison) and skipped. Extra fields are ignored.
 */

const address = z
  .object({ emailAddress: z.object({ address: z.string().trim().max(320).optional().nullable(), name: z.string().max(500).optional().nullable() }) })
  .transform((r) => ({ address: (r.emailAddress.address ?? '').toLowerCase(), name: r.emailAddress.name?.trim() || (r.emailAddress.address ?? '').split('@')[0] || '' }));

const schema = z.object({
  id: z.string().min(1),
  internetMessageId: z.string().trim().min(3).max(998),
  conversationId: z.string().nullish(),
  subject: z.string().max(10_000).nullish(),
  from: address.nullish(),
  toRecipients: z.array(address).nullish(),
  ccRecipients: z.array(address).nullish(),
  receivedDateTime: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'is not a date'),
  body: z.object({ contentType: z.string(), content: z.string().nullish() }).nullish(),
  hasAttachments: z.boolean().nullish(),
  internetMessageHeaders: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
});

export type MessageParse = { ok: true; mail: InboundMail } | { ok: false; id: string | undefined; internetMessageId: string | undefined; problem: string };

export function parseGraphMessage(raw: unknown): MessageParse {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const r = raw as { id?: unknown; internetMessageId?: unknown } | null;
    return {
      ok: false,
      id: typeof r?.id === 'string' ? r.id : undefined,
      internetMessageId: typeof r?.internetMessageId === 'string' ? r.internetMessageId : undefined,
      problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'message'} ${i.message}`).join('; '),
    };
  }
  const m = parsed.data;
  const from = m.from && m.from.address ? m.from : null;
  return {
    ok: true,
    mail: {
      mailboxId: m.id,
      internetMessageId: m.internetMessageId.startsWith('<') ? m.internetMessageId : `<${m.internetMessageId}>`,
      conversationId: m.conversationId ?? null,
      subject: (m.subject ?? '').trim(),
      from,
      to: (m.toRecipients ?? []).filter((a) => a.address),
      cc: (m.ccRecipients ?? []).filter((a) => a.address),
      receivedAt: Date.parse(m.receivedDateTime),
      headers: headerMap(m.internetMessageHeaders ?? []),
      body: { type: /html/i.test(m.body?.contentType ?? '') ? 'html' : 'text', content: m.body?.content ?? '' },
      hasAttachments: m.hasAttachments === true,
    },
  };
}
