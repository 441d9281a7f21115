import { parseReference } from '../ticket-reference.js';
import { TEXT_LIMIT } from './html-text.js';
import { header, messageIds, type InboundMail } from './message.js';

/**
 * How an incoming email finds its ticket: a ticket reference in the subject, then the Message-IDs it
 * answers, then the hidden token our own mail carries, then the mailbox's conversation id. The rule
 * that matched is written on the timeline, so "why did this land here?" always has an answer.
 *
 * Finding a ticket is not joining it: anyone can type `[INC-42]` in a subject. `trustThread` decides
 * whether the sender may write on the ticket found (a participant of its mail thread, a verified agent,
 * or someone who holds proof of having received our mail on it); otherwise the mail opens a ticket of
 * its own that links the one it named. Pure: the lookups are passed in.
 */

export type ThreadRule = 'subject-reference' | 'message-id' | 'hidden-token' | 'conversation-id';

export interface ThreadLookups {
  ticketExists(id: number): Promise<boolean>;
  /** The ticket of the newest stored message (received or sent) with one of these Message-IDs. */
  ticketByMessageIds(ids: readonly string[]): Promise<number | undefined>;
  ticketByToken(ticketId: number, token: string): Promise<boolean>;
  ticketByConversation(conversationId: string): Promise<number | undefined>;
}

export interface ThreadMatch {
  ticketId: number;
  rule: ThreadRule;
  evidence: string;
}

/** At most this many references or tokens are looked up per mail: a mail stuffed with thousands costs no more. */
export const MAX_LOOKUPS = 10;

/** `[INC-1042]`, `[REQ-7]` or `[#1042]` anywhere in the subject, after any RE:/AW:/FW:/SV: prefixes. */
export function subjectReferences(subject: string): number[] {
  const found: number[] = [];
  for (const match of subject.matchAll(/\[\s*((?:INC|REQ)\s*-\s*\d{1,12}|#\d{1,12})\s*\]/gi)) {
    const id = parseReference(match[1]!.replace(/\s+/g, ''));
    if (id !== undefined && !found.includes(id)) found.push(id);
    if (found.length >= MAX_LOOKUPS) break;
  }
  return found;
}

const TOKEN = /\[sd:(\d{1,12}):([0-9a-f]{12})\]/g;

/** The token our outgoing mail carries (hidden in HTML, and in the plain-text part's footer). */
export function threadToken(ticketId: number, secret: string): string {
  return `[sd:${ticketId}:${secret}]`;
}

/** The distinct tokens in a text, the first `MAX_LOOKUPS` of them. */
export function tokensIn(text: string): Array<{ ticketId: number; secret: string }> {
  const found = new Map<string, { ticketId: number; secret: string }>();
  for (const m of text.matchAll(TOKEN)) {
    found.set(m[0], { ticketId: Number(m[1]), secret: m[2]! });
    if (found.size >= MAX_LOOKUPS) break;
  }
  return [...found.values()];
}

/** The first ticket a mail finds, by the rules in order (see threadCandidates). */
export async function findThread(mail: InboundMail, bodyText: string, lookups: ThreadLookups): Promise<ThreadMatch | undefined> {
  return (await threadCandidates(mail, bodyText, lookups))[0];
}

/**
 * Every ticket a mail finds, in the order of the rules, each once (by the first rule that found it):
 * the caller takes the first one the sender may join, so a reference to another ticket in the subject
 * does not hide the ticket whose mail it answers.
 */
export async function threadCandidates(mail: InboundMail, bodyText: string, lookups: ThreadLookups): Promise<ThreadMatch[]> {
  const found: ThreadMatch[] = [];
  const add = (match: ThreadMatch) => {
    if (!found.some((f) => f.ticketId === match.ticketId)) found.push(match);
  };
  for (const id of subjectReferences(mail.subject)) {
    if (await lookups.ticketExists(id)) add({ ticketId: id, rule: 'subject-reference', evidence: mail.subject });
  }
  // In-Reply-To first (the message answered), then References newest to oldest.
  const answered = answeredIds(mail);
  if (answered.length > 0) {
    const ticketId = await lookups.ticketByMessageIds(answered);
    if (ticketId !== undefined) add({ ticketId, rule: 'message-id', evidence: answered[0]! });
  }
  // The raw body is searched as far as the text was read (TEXT_LIMIT): our token is near the top of a reply.
  for (const token of tokensIn(`${bodyText}\n${mail.body.content.slice(0, TEXT_LIMIT)}`)) {
    if (await lookups.ticketByToken(token.ticketId, token.secret)) add({ ticketId: token.ticketId, rule: 'hidden-token', evidence: `sd:${token.ticketId}` });
  }
  if (mail.conversationId) {
    const ticketId = await lookups.ticketByConversation(mail.conversationId);
    if (ticketId !== undefined) add({ ticketId, rule: 'conversation-id', evidence: mail.conversationId });
  }
  return found;
}

/** The Message-IDs a mail answers: In-Reply-To first (the message answered), then References newest to oldest. */
export function answeredIds(mail: Pick<InboundMail, 'headers'>): string[] {
  return [...new Set([...messageIds(header(mail, 'in-reply-to')), ...messageIds(header(mail, 'references')).reverse()])].slice(0, 200);
}

/** What is known about the sender of a mail that named a ticket. */
export interface ThreadEvidence {
  /** The mail carries the hidden token of our mail on that ticket. */
  carriesToken: boolean;
  /** It answers (In-Reply-To/References) a message we sent on that ticket. */
  answersOurMail: boolean;
  /** The receiving server says the From line is forged (DMARC or SPF failed). */
  senderFailedAuthentication: boolean;
  /** An agent of the desk, whose address the receiving server confirmed. */
  senderIsVerifiedAgent: boolean;
  /** The requester or someone on the ticket's mail thread. */
  senderIsParticipant: boolean;
  sender: string;
}

export type ThreadTrust = { trusted: true; because: string } | { trusted: false; because: string };

/**
 * Whether a mail that named a ticket may join it. Holding our token or answering our Message-ID proves
 * the sender received our mail on the ticket; otherwise the sender must be one of its people, and
 * a From line the receiving server calls forged proves nothing.
 */
export function trustThread(e: ThreadEvidence): ThreadTrust {
  if (e.carriesToken) return { trusted: true, because: 'it carries the hidden token of our mail on the ticket' };
  if (e.answersOurMail) return { trusted: true, because: 'it answers mail we sent on the ticket' };
  if (e.senderFailedAuthentication) return { trusted: false, because: `the receiving server could not confirm that it comes from ${e.sender}` };
  if (e.senderIsVerifiedAgent) return { trusted: true, because: `${e.sender} is an agent` };
  if (e.senderIsParticipant) return { trusted: true, because: `${e.sender} is on the ticket's mail thread` };
  return { trusted: false, because: `${e.sender} is not on the ticket's mail thread` };
}

/**
 * The original sender of a forwarded message, from the header block the forwarding client wrote:
 * Outlook ("From: Name <a@b>" / "From: Name [mailto:a@b]" then "Sent:"), Gmail ("---------- Forwarded
 * message ---------" then "From: Name <a@b>"), Apple Mail ("Begin forwarded message:" then "From:").
 */
export function forwardedSender(text: string): { address: string; name: string; subject: string | undefined } | undefined {
  const lines = text.split('\n').map((l) => l.replace(/^[>\s*]+/, '').replace(/\*+/g, '').trim());
  for (let i = 0; i < lines.length; i++) {
    const match = /^(From|Von|De|Van|Från|Fra)\s*:\s*(.+)$/i.exec(lines[i]!);
    if (!match) continue;
    const window = lines.slice(Math.max(0, i - 3), i + 5);
    const isHeaderBlock =
      window.some((l) => /forwarded message|original message|weitergeleitete nachricht|ursprüngliche nachricht|message transféré/i.test(l)) ||
      window.some((l) => /^(Sent|Date|Gesendet|Datum|Envoyé)\s*:/i.test(l));
    if (!isHeaderBlock) continue;
    const sender = parseAddress(match[2]!);
    if (!sender) continue;
    const subjectLine = lines.slice(i, i + 6).find((l) => /^(Subject|Betreff|Objet|Onderwerp|Ämne)\s*:/i.test(l));
    return { ...sender, subject: subjectLine?.replace(/^[^:]+:\s*/, '') || undefined };
  }
  return undefined;
}

/** `Name <a@b>`, `"Name" <a@b>`, `Name [mailto:a@b]`, `a@b`. */
export function parseAddress(text: string): { address: string; name: string } | undefined {
  const angle = /^(.*?)\s*[<[](?:mailto:)?([^<>[\]\s]+@[^<>[\]\s]+)[>\]]/i.exec(text);
  if (angle) return { address: angle[2]!.toLowerCase(), name: angle[1]!.replace(/^["']|["']$/g, '').trim() || angle[2]!.split('@')[0]! };
  const bare = /([^\s<>"]+@[^\s<>"]+\.[a-z]{2,})/i.exec(text);
  return bare ? { address: bare[1]!.toLowerCase(), name: bare[1]!.split('@')[0]! } : undefined;
}
