import { parseReference } from './ticket-reference.js';
import { SUBJECT_MAX } from './tickets.js';

/**
 * Reading what a requester writes to the bot when it is not a command, pure and deterministic: a new
 * request, a question about the state of their ticket, more information for a ticket, or unsure.
 * `readRequest` is the seam for a smarter reader (an AI assistant may replace an 'unsure' answer); the
 * bot acts on the result, always through the ticket services and their access checks.
 */

export type RequestIntent = 'new' | 'status' | 'add-info' | 'unsure';

/** What the reader needs of one of the person's open tickets. */
export interface OpenTicketSummary {
  id: number;
  reference: string;
  subject: string;
  /** Last change, for "most recent first". */
  updatedAt: number;
}

export interface RequestReading {
  intent: RequestIntent;
  /** The ticket meant ('status', 'add-info'), or the likeliest one ('unsure'). */
  ticketId?: number;
  /** 0–1: how sure the reading is. */
  confidence: number;
  /** The open tickets, likeliest first (word overlap, then most recent). */
  ranked: number[];
}

/** Words that say nothing about which ticket is meant. */
const STOP_WORDS = new Set(
  'a an and any are as at be been but by can could do does for from get got has have having hello hey hi how i im i\'m in is it its it\'s me my of on or our please so still than that the their them then there this to too up us was we were what whats what\'s when where wheres where\'s which who why will with would you your about again ticket tickets request requests issue issues case problem news update updates status progress'.split(' '),
);

/** The words of a text that can tell tickets apart: lower case, no stop words, a plural "s" dropped. */
export function contentWords(text: string): Set<string> {
  const words = text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? [];
  const out = new Set<string>();
  for (const word of words) {
    if (word.length < 2 || STOP_WORDS.has(word)) continue;
    out.add(word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word);
  }
  return out;
}

/** Open tickets ordered by how many words they share with the text, then most recent first. */
export function rankTickets(text: string, tickets: readonly OpenTicketSummary[]): Array<{ ticket: OpenTicketSummary; shared: number }> {
  const words = contentWords(text);
  return tickets
    .map((ticket) => {
      let shared = 0;
      for (const word of contentWords(ticket.subject)) if (words.has(word)) shared++;
      return { ticket, shared };
    })
    .sort((a, b) => b.shared - a.shared || b.ticket.updatedAt - a.ticket.updatedAt || b.ticket.id - a.ticket.id);
}

// "status", "update?", "any news?", "news", "progress"; alone, give or take a "please" or a greeting.
const STATUS_ALONE = /^(?:(?:hi|hello|hey)\s+)?(?:status|update|updates|news|progress|any news|any updates?|any progress|what'?s new|whats new|what'?s the status|status update|news on my ticket)(?:\s+please)?$/;
// "what about my VPN ticket", "where is my ticket", "how is my request going", "status of my laptop issue".
const STATUS_ABOUT = /^(?:(?:hi|hello|hey)\s+)?(?:what about|where is|where'?s|wheres|how is|how'?s|hows|what'?s happening with|whats happening with|any news on|any news about|any update on|any updates on|update on|news on|status of|what is the status of|what'?s the status of)\s+(?:my|the)\s+(.*)$/;
const TICKET_WORDS = /\b(?:ticket|tickets|request|requests|issue|issues|case|incident|problem)\b/;

/** A greeting or thanks on its own, with the short friendly answer it gets; otherwise undefined. */
export function smallTalk(text: string): string | undefined {
  const t = normalize(text);
  if (/^(?:(?:thanks?|thank you|thx|ty|cheers|great|perfect|awesome|ok|okay|got it|cool)(?: (?:so much|a lot|again|very much))?[ ,]*)+$/.test(t)) return 'You’re welcome! Write to me whenever something else comes up.';
  if (/^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|morning|yo)(?: there)?$/.test(t)) return 'Hello! Tell me what’s wrong, in your own words, and I’ll open a ticket for you; or ask “any news?” about your tickets.';
  if (/^(?:bye|goodbye|see you|see ya|cya)$/.test(t)) return 'Bye! I’ll let you know when your tickets change.';
  return undefined;
}

/**
 * Reads a requester's free text against their open tickets (most recent first) and the ticket the
 * conversation is about right now (`focusTicketId`, when a follow-up is still expected).
 */
export function readRequest(text: string, openTickets: readonly OpenTicketSummary[], context: { focusTicketId?: number } = {}): RequestReading {
  const ranking = rankTickets(text, openTickets);
  const ranked = ranking.map((r) => r.ticket.id);
  const best = ranking[0];
  const focus = context.focusTicketId;
  const t = normalize(text);

  // A question about how things stand: the ticket its words name, else the one being discussed, else
  // (one open ticket) that one; several with nothing to tell them apart is for the caller to list.
  const about = STATUS_ABOUT.exec(t);
  const namesTicket = about && (about[1] === '' || TICKET_WORDS.test(about[1]!) || (best?.shared ?? 0) > 0 || contentWords(about[1]!).size === 0);
  if (STATUS_ALONE.test(t) || namesTicket) {
    if (best && best.shared > 0) return { intent: 'status', ticketId: best.ticket.id, confidence: 0.9, ranked };
    if (focus !== undefined && openTickets.some((o) => o.id === focus)) return { intent: 'status', ticketId: focus, confidence: 0.8, ranked };
    if (openTickets.length === 1) return { intent: 'status', ticketId: openTickets[0]!.id, confidence: 0.8, ranked };
    return { intent: 'status', confidence: 0.7, ranked };
  }

  // A reference to one of their open tickets in the text: more about that one.
  for (const word of text.split(/\s+/)) {
    const id = /^(?:inc|req|#)/i.test(word) ? parseReference(word.replace(/[.!,;:?)]+$/, '')) : undefined;
    if (id !== undefined && openTickets.some((o) => o.id === id)) return { intent: 'add-info', ticketId: id, confidence: 0.9, ranked: [id, ...ranked.filter((r) => r !== id)] };
  }
  // A follow-up while a ticket is being discussed joins it.
  if (focus !== undefined) return { intent: 'add-info', ticketId: focus, confidence: 0.8, ranked };
  if (openTickets.length === 0) return { intent: 'new', confidence: 0.9, ranked };
  // Open tickets, nothing said which: the person picks (likeliest first), or says it is new.
  return { intent: 'unsure', ...(best ? { ticketId: best.ticket.id } : {}), confidence: best && best.shared > 0 ? 0.6 : 0.3, ranked };
}

/**
 * Subject and description for a ticket from a free-text message: the subject is the first line, or
 * its first sentence when that line is long, within SUBJECT_MAX; the description is the whole text
 * when the subject does not already say all of it.
 */
export function ticketFromText(text: string): { subject: string; description: string } {
  const trimmed = text.trim();
  const line = trimmed.split(/\r?\n/)[0]!.trim();
  const sentence = /^(.{10,}?[.!?])\s/.exec(line)?.[1] ?? line;
  const first = line.length > 80 ? sentence : line;
  const subject = first.length > SUBJECT_MAX ? `${first.slice(0, SUBJECT_MAX - 1).trimEnd()}…` : first;
  return { subject, description: subject === trimmed ? '' : trimmed };
}

function normalize(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[’]/g, "'")
    .replace(/[!?.,;:…]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
