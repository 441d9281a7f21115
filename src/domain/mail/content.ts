/**
 * What an email says, as safe text: HTML bodies lose their markup, scripts, styles and images
 * (tracking pixels included), entities are decoded, and what the cards and timeline show is the new
 * part of a reply, without quoted history or signature. Pure; the untouched original is stored apart.
 *
 * The work lives in html-text.ts (HTML through a real parser), reply-text.ts (the new part of a
 * reply, in linear time) and read-body.ts (both, yielding to the event loop between slices).
 */
export { htmlToText, HTML_LIMIT, TEXT_LIMIT } from './html-text.js';
export { newPartOf, tidy } from './reply-text.js';
export { readBody, type MailBody, type ReadBody } from './read-body.js';

/**
 * A file name safe to store and show: no directories, no control or reserved characters, no leading
 * dots, at most 120 characters (keeping the extension), never empty.
 */
export function safeFileName(name: string | null | undefined, fallback = 'attachment'): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  let clean = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .trim();
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(clean)) clean = `_${clean}`;
  if (!clean) clean = fallback;
  if (clean.length > 120) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 12 ? clean.slice(dot) : '';
    clean = clean.slice(0, 120 - ext.length) + ext;
  }
  return clean;
}

/** One line for a preview: the first words of the text. */
export function preview(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
