import { decode } from 'html-entities';

/**
 * Turns what Teams delivers as a message's text into what the user typed: HTML that rich-text clients
 * add, non-breaking spaces and extra whitespace are removed, and a mention of someone (`<at>Megan
 * Bowen</at>`) reads `@Megan Bowen`. (The bot's own mention is taken out before this.) Pure.
 */
export function normalizeCommandText(text: string | undefined | null): string {
  if (!text) return '';
  // One pass of a real decoder: "&amp;lt;" is the text "&lt;", not "<".
  return decode(
    text.replace(/<at>([^<]*)<\/at>/gi, ' @$1 ').replace(/<[^>]+>/g, ' '),
    { level: 'html5' },
  )
    .replace(/\u00a0/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `help`, `Help!`, `?`, ` HELP. `: the ways people ask what the bot can do. */
export function isHelpRequest(text: string): boolean {
  return /^(help|\?)[\s.!?]*$/i.test(text);
}
