import { parseCommand } from '../../domain/commands.js';
import { parseReference } from '../../domain/ticket-reference.js';
import type { StatusChange } from '../../domain/tickets.js';

/**
 * The `/ticket` slash command's grammar, pure. Where a subcommand means what a Teams command means,
 * Teams' own parser reads it (`take INC-42`, `assign INC-42 to megan`), so both surfaces accept the
 * same references and spellings. A slash command has no thread to imply a ticket, so a reference is
 * always required.
 */

export type SlashCommand =
  | { kind: 'help' }
  | { kind: 'create'; text: string }
  | { kind: 'show' | 'take'; ref: number }
  | { kind: 'assign'; ref: number; assignee: string }
  | { kind: 'status'; ref: number; to: StatusChange; note: string | undefined };

export type SlashParse = { ok: true; command: SlashCommand } | { ok: false; error: string };

export const SLASH_USAGE =
  'Usage: `/ticket create <subject>` · `/ticket show INC-42` · `/ticket take INC-42` · `/ticket assign INC-42 <email or name>` · `/ticket status INC-42 <open|pending|on hold|resolved|closed> [note]` · `/ticket help`';

/** Status words as people type them → the change. */
const STATUS_WORDS: Record<string, StatusChange> = {
  open: 'open',
  reopen: 'open',
  reopened: 'open',
  pending: 'pending',
  hold: 'on_hold',
  'on-hold': 'on_hold',
  on_hold: 'on_hold',
  onhold: 'on_hold',
  resolve: 'resolved',
  resolved: 'resolved',
  close: 'closed',
  closed: 'closed',
};

export function parseSlashCommand(input: string): SlashParse {
  const text = input.trim();
  const [first = '', ...rest] = text.split(/\s+/);
  const verb = first.toLowerCase();
  switch (verb) {
    case '':
    case 'help':
    case '?':
      return { ok: true, command: { kind: 'help' } };
    case 'create':
    case 'new': {
      const subject = rest.join(' ').trim();
      if (!subject) return { ok: false, error: 'Give the ticket a subject: `/ticket create Printer on 3rd floor is jammed`' };
      return { ok: true, command: { kind: 'create', text: subject } };
    }
    case 'show':
    case 'take':
    case 'assign': {
      const parsed = parseCommand(text);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const command = parsed.command;
      if ((command.kind !== 'show' && command.kind !== 'take' && command.kind !== 'assign') || command.ref === undefined) return { ok: false, error: `Say which ticket, e.g. \`/ticket ${verb} INC-42${verb === 'assign' ? ' megan@contoso.com' : ''}\`` };
      return { ok: true, command: command.kind === 'assign' ? { kind: 'assign', ref: command.ref, assignee: command.assignee } : { kind: command.kind, ref: command.ref } };
    }
    case 'status': {
      const { ref, remainder } = referenceAt(rest);
      if (ref === undefined) return { ok: false, error: 'Say which ticket, e.g. `/ticket status INC-42 resolved`' };
      const [word = '', ...more] = remainder;
      // "on hold" is two words.
      const twoWords = word.toLowerCase() === 'on' && more[0]?.toLowerCase() === 'hold';
      const to = twoWords ? 'on_hold' : STATUS_WORDS[word.toLowerCase().replace(/[.!,;:]+$/, '')];
      if (!to) return { ok: false, error: `Give the new status: open, pending, on hold, resolved or closed, e.g. \`/ticket status INC-${ref} resolved\`` };
      const note = (twoWords ? more.slice(1) : more).join(' ').trim();
      return { ok: true, command: { kind: 'status', ref, to, note: note || undefined } };
    }
    default:
      return { ok: false, error: `I don't know "${first.slice(0, 40)}". ${SLASH_USAGE}` };
  }
}

/** A reference at the start (`INC-42`, `#42`, `42`, or `INC 42`). */
function referenceAt(words: string[]): { ref: number | undefined; remainder: string[] } {
  const [a, b] = words;
  if (a === undefined) return { ref: undefined, remainder: [] };
  const single = parseReference(a.replace(/[.!,;:]+$/, ''));
  if (single !== undefined) return { ref: single, remainder: words.slice(1) };
  if (b !== undefined && /^(inc|req)$/i.test(a)) {
    const joined = parseReference(`${a}${b}`);
    if (joined !== undefined) return { ref: joined, remainder: words.slice(2) };
  }
  return { ref: undefined, remainder: words };
}
