import { parseReference } from './ticket-reference.js';

/**
 * `file INC-42 2` (one file back) and `files INC-42` (the list, with links), typed or sent by a card's
 * "Get files" button. The reference may be left out under a ticket's card. Undefined when the text is
 * not this command.
 */
export function parseFileCommand(text: string): { ref: number | undefined; index: number | undefined } | undefined {
  const match = /^files?(?:\s+(.*?))?[\s.!]*$/i.exec(text.trim());
  if (!match) return undefined;
  const words = (match[1] ?? '').split(/\s+/).filter(Boolean);
  let ref: number | undefined;
  let index: number | undefined;
  for (const word of words) {
    const asRef = /[a-z]/i.test(word) || word.startsWith('#') ? parseReference(word) : undefined;
    if (asRef !== undefined && ref === undefined) ref = asRef;
    else if (/^\d{1,4}$/.test(word) && index === undefined) index = Number(word);
    else return undefined;
  }
  return { ref, index };
}
