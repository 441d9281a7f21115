import { parseReference } from './ticket-reference.js';
import { PRIORITIES, type Priority } from './tickets.js';

/**
 * The command grammar of the chat, pure: normalized text in, a command or a helpful error out.
 * Case-insensitive, tolerant of extra spaces and trailing punctuation. A ticket reference may be
 * left out where the conversation implies one (a reply in a ticket's thread); the handler fills it in.
 */

export type ListKind = 'mine' | 'open' | 'unassigned' | 'team' | 'breaching';
export type ChannelSetup = 'triage' | 'sla-breaches' | 'critical' | 'escalations';
export type SetupKind = ChannelSetup | 'support-team';

export type Command =
  | { kind: 'help' }
  | { kind: 'new'; text: string | undefined }
  | { kind: 'list'; list: ListKind }
  | { kind: 'show' | 'history' | 'take' | 'unassign' | 'pending' | 'hold' | 'close'; ref: number | undefined }
  | { kind: 'assign'; ref: number | undefined; assignee: string }
  | { kind: 'priority'; ref: number | undefined; priority: Priority }
  | { kind: 'resolve' | 'reopen' | 'escalate'; ref: number | undefined; note: string | undefined }
  | { kind: 'note' | 'reply'; ref: number | undefined; text: string }
  | { kind: 'remind'; ref: number | undefined; when: string }
  | { kind: 'quiet'; range: string | undefined }
  | { kind: 'tier'; ref: number | undefined; tier: string; reason: string | undefined }
  | { kind: 'whois'; email: string }
  | { kind: 'status' }
  | { kind: 'integrations'; test: string | undefined }
  | { kind: 'report'; mine: boolean }
  | { kind: 'setup'; what: SetupKind }
  | { kind: 'link' | 'unlink'; ref: number | undefined; issue: string }
  | { kind: 'issues'; ref: number | undefined };

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string; suggestion?: string };

/** Every way to start a command, with an example; the help card and suggestions use the same list. */
export const COMMAND_WORDS = [
  'help',
  'new',
  'list',
  'my tickets',
  'open',
  'unassigned',
  'team',
  'breaching',
  'show',
  'history',
  'take',
  'assign',
  'unassign',
  'priority',
  'pending',
  'hold',
  'resolve',
  'close',
  'reopen',
  'note',
  'reply',
  'escalate',
  'remind me',
  'quiet',
  'tier',
  'whois',
  'status',
  'integrations',
  'report',
  'link',
  'unlink',
  'issues',
  'setup triage',
  'setup sla-breaches',
  'setup critical',
  'setup escalations',
  'setup support team',
] as const;

const LISTS: Record<string, ListKind> = {
  list: 'mine',
  'list mine': 'mine',
  'list my': 'mine',
  'list my tickets': 'mine',
  mine: 'mine',
  my: 'mine',
  'my tickets': 'mine',
  'my open tickets': 'mine',
  open: 'open',
  'list open': 'open',
  'open tickets': 'open',
  unassigned: 'unassigned',
  'list unassigned': 'unassigned',
  team: 'team',
  'list team': 'team',
  'team tickets': 'team',
  breaching: 'breaching',
  'list breaching': 'breaching',
};

const CHANNEL_SETUPS: Record<string, ChannelSetup> = {
  triage: 'triage',
  'sla-breaches': 'sla-breaches',
  'sla breaches': 'sla-breaches',
  breaches: 'sla-breaches',
  critical: 'critical',
  escalations: 'escalations',
};

const SIMPLE_REF = new Set(['show', 'history', 'take', 'unassign', 'pending', 'hold', 'close']);
const ALIASES: Record<string, string> = { '?': 'help', 'on-hold': 'hold', view: 'show', comment: 'reply', resolved: 'resolve' };

export function parseCommand(input: string): ParseResult {
  const text = input.trim().replace(/[\s.!,;:]+$/, '');
  if (!text) return { ok: false, error: 'Type a command, or “help” to see them all.' };
  const lower = text.toLowerCase().replace(/\s+/g, ' ');
  if (lower === 'help' || lower === '?') return { ok: true, command: { kind: 'help' } };
  if (LISTS[lower]) return { ok: true, command: { kind: 'list', list: LISTS[lower]! } };
  if (lower === 'status' || lower === 'health') return { ok: true, command: { kind: 'status' } };
  if (lower === 'integrations' || lower === 'integration' || lower === 'rules') return { ok: true, command: { kind: 'integrations', test: undefined } };
  const testing = /^integrations? test(?: (\S+))?$/.exec(lower);
  if (testing) return testing[1] ? { ok: true, command: { kind: 'integrations', test: testing[1] } } : { ok: false, error: 'Name the integration to test, e.g. “integrations test on-call” (“integrations” lists them).' };
  if (lower === 'report' || lower === 'sla report' || lower === 'report team') return { ok: true, command: { kind: 'report', mine: false } };
  if (lower === 'report mine' || lower === 'my report' || lower === 'report me') return { ok: true, command: { kind: 'report', mine: true } };

  const [first = '', ...words] = text.split(/\s+/);
  // "remind me INC-42 in 2h" and "remind INC-42 in 2h" read the same.
  const rest = first.toLowerCase() === 'remind' && words[0]?.toLowerCase() === 'me' ? words.slice(1) : words;
  const verb = ALIASES[first.toLowerCase().replace(/[.!,;:]+$/, '')] ?? first.toLowerCase().replace(/[.!,;:]+$/, '');
  const { ref, remainder } = takeReference(rest);

  switch (verb) {
    case 'new': {
      const words = rest[0]?.toLowerCase() === 'ticket' && rest.length === 1 ? [] : rest;
      const subject = words.join(' ').trim();
      return { ok: true, command: { kind: 'new', text: subject || undefined } };
    }
    case 'setup': {
      const what = rest.join(' ').toLowerCase().replace(/\s+/g, ' ');
      const channel = CHANNEL_SETUPS[what];
      if (channel) return { ok: true, command: { kind: 'setup', what: channel } };
      if (what === 'support team' || what === 'team') return { ok: true, command: { kind: 'setup', what: 'support-team' } };
      return {
        ok: false,
        error: 'Use “setup triage”, “setup sla-breaches”, “setup critical” or “setup escalations” in the channel that should receive those, or “setup support team” in the support team.',
      };
    }
    case 'assign': {
      const words = remainder[0]?.toLowerCase() === 'to' ? remainder.slice(1) : remainder;
      const assignee = words.join(' ').trim();
      if (!assignee) return { ok: false, error: 'Say who to assign it to, e.g. “assign INC-1042 to @Megan”.' };
      return { ok: true, command: { kind: 'assign', ref, assignee } };
    }
    case 'priority': {
      const value = remainder.join('').toUpperCase();
      const priority = PRIORITIES.find((p) => p === value || p === `P${value}`);
      if (!priority) return { ok: false, error: 'Give a priority from P1 (critical) to P4 (low), e.g. “priority INC-1042 P2”.' };
      return { ok: true, command: { kind: 'priority', ref, priority } };
    }
    case 'resolve':
    case 'reopen':
    case 'escalate': {
      const note = remainder.join(' ').trim();
      return { ok: true, command: { kind: verb, ref, note: note || undefined } };
    }
    case 'tier': {
      const [tier, ...why] = remainder;
      if (!tier) return { ok: false, error: 'Give the tier, e.g. “tier INC-1042 vip customer escalated to the CEO”.' };
      return { ok: true, command: { kind: 'tier', ref, tier: tier.toLowerCase(), reason: why.join(' ').trim() || undefined } };
    }
    case 'whois': {
      const email = rest.join(' ').trim().replace(/^mailto:/i, '').replace(/^<|>$/g, '');
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return { ok: false, error: 'Give an email address, e.g. “whois dana@fabrikam.com”.' };
      return { ok: true, command: { kind: 'whois', email: email.toLowerCase() } };
    }
    case 'quiet': {
      const range = rest.join(' ').trim();
      return { ok: true, command: { kind: 'quiet', range: range || undefined } };
    }
    case 'remind': {
      const when = remainder.join(' ').trim();
      if (!when) return { ok: false, error: 'Say when, e.g. “remind me INC-1042 tomorrow 9:00” or “… in 2h”.' };
      return { ok: true, command: { kind: 'remind', ref, when } };
    }
    case 'link':
    case 'unlink': {
      // The issue's key (ENG-123, linear:ENG-123) or URL; which tracker it is in is the service's to say.
      const issue = remainder.join(' ').trim();
      if (!issue || /\s/.test(issue)) return { ok: false, error: `Give the ticket and one issue, e.g. “${verb} INC-1042 ENG-123” or “${verb} INC-1042 https://linear.app/acme/issue/ENG-123”.` };
      return { ok: true, command: { kind: verb, ref, issue } };
    }
    case 'issues':
      if (remainder.length > 0 && ref === undefined) return { ok: false, error: `"${remainder.join(' ')}" is not a ticket reference; use one like INC-1042 or #1042.` };
      return { ok: true, command: { kind: 'issues', ref } };
    case 'note':
    case 'reply': {
      const body = remainder.join(' ').trim();
      if (!body) return { ok: false, error: `Add the text, e.g. “${verb} INC-1042 ${verb === 'note' ? 'called the customer' : 'a fix is on its way'}”.` };
      return { ok: true, command: { kind: verb, ref, text: body } };
    }
    default:
      if (SIMPLE_REF.has(verb)) {
        if (remainder.length > 0 && ref === undefined) return { ok: false, error: `"${remainder.join(' ')}" is not a ticket reference; use one like INC-1042 or #1042.` };
        return { ok: true, command: { kind: verb as 'show', ref } };
      }
  }
  const suggestion = suggest(first.toLowerCase(), rest.join(' '));
  return {
    ok: false,
    error: `I don't know "${shorten(text)}".`,
    ...(suggestion ? { suggestion } : {}),
  };
}

/** Reads a ticket reference at the start of `words` (`INC-42`, `inc42`, `#42`, `42`, or `INC 42`). */
function takeReference(words: string[]): { ref: number | undefined; remainder: string[] } {
  const [a, b] = words;
  if (a === undefined) return { ref: undefined, remainder: [] };
  const clean = (w: string) => w.replace(/[.!,;:]+$/, '');
  const single = parseReference(clean(a));
  if (single !== undefined) return { ref: single, remainder: words.slice(1) };
  if (b !== undefined && /^(inc|req)$/i.test(a)) {
    const joined = parseReference(`${a}${clean(b)}`);
    if (joined !== undefined) return { ref: joined, remainder: words.slice(2) };
  }
  return { ref: undefined, remainder: words };
}

function suggest(word: string, rest: string): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of COMMAND_WORDS) {
    const head = candidate.split(' ')[0]!;
    const distance = editDistance(word, head);
    if (!best || distance < best.distance) best = { word: head === candidate ? head : candidate, distance };
  }
  if (!best || best.distance === 0 || best.distance > Math.max(1, Math.floor(word.length / 2))) return undefined;
  const suggestion = rest && !best.word.includes(' ') ? `${best.word} ${rest}` : best.word;
  // Only suggest what would work as typed: "tkae 42" → "take 42", but not "make me a sandwich" → "take me a sandwich".
  return parseCommand(suggestion).ok ? suggestion : undefined;
}

/** Levenshtein distance, with a transposition counting as one edit ("tkae" is one step from "take"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

const shorten = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
