import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { baseSubject } from '../../domain/mail/message.js';
import { threadToken } from '../../domain/mail/threading.js';
import type { Ticket } from '../../domain/tickets.js';
import type { Db } from '../../store/database.js';
import { acknowledgementsSince, enqueueMail, latestReceivedMail } from '../../store/mail.js';
import { participantsOf } from '../../store/mail-participants.js';
import { addTimelineEntry } from '../../store/timeline.js';
import { findPerson } from '../../store/people.js';
import type { ReplyChannel } from '../tickets.js';

/**
 * Mail the desk sends: agents' replies typed in Teams and the acknowledgement of a new ticket. Both are
 * queued in the transaction of the change that causes them and sent by the mail sender, so a Graph
 * outage delays them and loses nothing. Every message carries the ticket reference in its subject and a
 * hidden token in its body, the two threading rules that survive clients which drop headers.
 */

export const DEFAULT_ACK_TEMPLATE = `Hello {{name}},

Thank you for writing to us. Your request has been received and logged as {{reference}}: "{{subject}}".
Someone from the support team will get back to you. To add anything, reply to this email and keep
{{reference}} in the subject.

This message was sent automatically.`;

export function loadAckTemplate(path: string | undefined): string {
  if (!path) return DEFAULT_ACK_TEMPLATE;
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.trim()) throw new Error('the file is empty');
    return text;
  } catch (error) {
    throw new Error(`MAIL_ACK_TEMPLATE (${path}) could not be read: ${(error as Error).message}. Point it at a text file or unset it for the built-in text.`);
  }
}

export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** `RE: <original subject> [INC-1042]`, without stacking prefixes or references. */
export function replySubject(original: string, reference: string): string {
  const base = baseSubject(original).replace(/\s*\[(INC|REQ)-\d+\]\s*/gi, ' ').trim() || '(no subject)';
  return `RE: ${base} [${reference}]`;
}

const newSecret = () => randomBytes(6).toString('hex');

export class OutgoingMail implements ReplyChannel {
  private readonly own: Set<string>;

  constructor(
    private readonly options: { acknowledge: boolean; ackTemplate: string; ackMaxPerHour: number; ackMaxPerHourTotal: number; ownAddresses: readonly string[] },
  ) {
    this.own = new Set(options.ownAddresses.map((a) => a.trim().toLowerCase()));
  }

  /**
   * An agent's reply, to the ticket's requester with the other people on its mail thread in Cc: never
   * to "whoever wrote last", who may be a stranger. A recipient our mail could not reach before is
   * named on the timeline, so the agent knows this reply may not arrive either.
   */
  async queueReply(tx: Db, ticket: Ticket, reply: { body: string; authorId: number; version: number }, now: number): Promise<boolean> {
    const requester = await findPerson(tx, ticket.requesterId);
    const to = requester?.email?.trim().toLowerCase();
    if (!to) return false;
    const participants = await participantsOf(tx, ticket.id);
    const cc = participants.filter((p) => p.address !== to && !this.own.has(p.address)).slice(0, MAX_CC);
    const answered = await latestReceivedMail(tx, ticket.id);
    const queued = await enqueueMail(
      tx,
      {
        idempotency_key: `ticket:${ticket.id}:v${reply.version}:email-reply`,
        ticket_id: ticket.id,
        kind: 'reply',
        automatic: 0,
        in_reply_to: answered?.id ?? null,
        to_address: to,
        to_name: requester?.name ?? null,
        cc: cc.length > 0 ? JSON.stringify(cc.map((p) => ({ address: p.address, name: p.name }))) : null,
        subject: replySubject(answered?.subject ?? ticket.subject, ticket.reference),
        body: reply.body,
        token: newSecret(),
        author_id: reply.authorId,
      },
      now,
    );
    const bounced = participants.filter((p) => p.bouncedAt !== null && (p.address === to || cc.includes(p)));
    if (queued && bounced.length > 0) {
      await addTimelineEntry(tx, {
        ticketId: ticket.id,
        at: now,
        kind: 'email-bounced',
        visibility: 'internal',
        authorId: null,
        body: `This reply also goes to ${bounced.map((p) => `${p.address} (${p.bounceReason ?? 'bounced before'})`).join(', ')}, whose mail bounced before`,
        data: { recipients: bounced.map((p) => p.address) },
      });
    }
    return queued;
  }

  /**
   * The acknowledgement of a ticket opened by email, unless turned off, or this sender already had
   * `ackMaxPerHour` of them in the last hour (two robots acknowledging each other stop here), or the
   * desk sent `ackMaxPerHourTotal` in the last hour (a flood of forged senders must not turn the desk
   * into a backscatter source).
   */
  async queueAcknowledgement(tx: Db, ticket: Ticket, received: { mailId: number; address: string; name: string; subject: string }, now: number): Promise<'queued' | 'off' | 'rate-limited'> {
    if (!this.options.acknowledge) return 'off';
    if ((await acknowledgementsSince(tx, now - 3_600_000, received.address)) >= this.options.ackMaxPerHour) return 'rate-limited';
    if ((await acknowledgementsSince(tx, now - 3_600_000)) >= this.options.ackMaxPerHourTotal) return 'rate-limited';
    await enqueueMail(
      tx,
      {
        idempotency_key: `ticket:${ticket.id}:acknowledgement`,
        ticket_id: ticket.id,
        kind: 'acknowledgement',
        automatic: 1,
        in_reply_to: received.mailId,
        to_address: received.address,
        to_name: received.name,
        cc: null,
        subject: replySubject(received.subject || ticket.subject, ticket.reference),
        body: fillTemplate(this.options.ackTemplate, { name: received.name || 'there', reference: ticket.reference, subject: ticket.subject }),
        token: newSecret(),
        author_id: null,
      },
      now,
    );
    return 'queued';
  }
}

/** Cc beyond this many thread participants is left out (a reply is not a mailing list). */
const MAX_CC = 20;

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The HTML body of a reply: the agent's text as typed, and the hidden thread token. */
export function replyHtml(text: string, ticketId: number, secret: string): string {
  const paragraphs = text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  return `<html><body>${paragraphs}\n<div style="display:none;font-size:0;max-height:0;overflow:hidden;color:transparent">${threadToken(ticketId, secret)}</div></body></html>`;
}
