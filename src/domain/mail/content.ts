import { decode } from 'html-entities';

/**
 * What an email says, as safe text: HTML bodies lose their markup, scripts, styles and images
 * (tracking pixels included), entities are decoded, and what the cards and timeline show is the new
 * part of a reply, without quoted history or signature. Pure; the untouched original is stored apart.
 */

const DROPPED_ELEMENTS = /<(script|style|head|title|noscript|template|object|iframe|svg)\b[\s\S]*?<\/\1\s*>/gi;
const BLOCK_BREAKS = /<\s*(br|\/p|\/div|\/tr|\/h[1-6]|\/blockquote|\/pre|\/table|hr)\b[^>]*>/gi;
const QUOTE_OPEN = /<blockquote\b[^>]*>/gi;

/** Text of an HTML body: no markup, no hidden content, entities decoded, blank runs collapsed. */
export function htmlToText(html: string): string {
  let text = html.replace(/<!--[\s\S]*?-->/g, '').replace(DROPPED_ELEMENTS, '');
  // Outlook and Gmail mark quoted history with these; turning them into "> " lines lets the quote
  // stripper treat HTML and plain replies alike.
  text = text
    .replace(/<div\b[^>]*\b(id="(divRplyFwdMsg|appendonsend)"|class="gmail_quote[^"]*")[^>]*>/gi, '\n\u0000QUOTE\n')
    .replace(QUOTE_OPEN, '\n\u0000QUOTE\n')
    .replace(/<\s*li\b[^>]*>/gi, '\n• ')
    .replace(BLOCK_BREAKS, '\n')
    .replace(/<\s*(p|div|tr|h[1-6]|table)\b[^>]*>/gi, '\n')
    .replace(/<\s*t[dh]\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '');
  text = decode(text, { level: 'html5' }).replace(/\u00a0/g, ' ');
  return tidy(text);
}

/** Collapses trailing spaces and runs of blank lines; keeps line structure. */
export function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v]+/g, ' ').trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Where quoted history begins, in any of the styles mail clients write it. */
const QUOTE_HEADERS: RegExp[] = [
  /^\u0000QUOTE$/, // from the HTML conversion above
  /^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message|Oorspronkelijk bericht|Alkuperäinen viesti)\s*-{2,}$/i,
  /^_{10,}$/, // Outlook's rule above "From: …"
  /^On\b.{0,200}\bwrote:?$/i, // Gmail, Apple Mail, Thunderbird
  /^Am\b.{0,200}\bschrieb.{0,80}:$/i,
  /^Le\b.{0,200}\ba écrit\s*:$/i,
  /^El\b.{0,200}\bescribió:$/i,
  /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.{0,120}<[^>]+@[^>]+>:?$/,
];
/** Outlook's header block: "From: …" followed within two lines by "Sent:"/"Date:"/"To:". */
const OUTLOOK_FROM = /^\*?(From|Von|De|Van|Från|Fra)\s*:\*?\s/i;
const OUTLOOK_NEXT = /^\*?(Sent|Date|To|Subject|Gesendet|Datum|An|Envoyé|Skickat|Verzonden)\s*:/i;
const SIGNATURES: RegExp[] = [/^-- ?$/, /^__+$/, /^Sent from my \w+/i, /^Get Outlook for (iOS|Android)/i, /^Von meinem \w+ gesendet/i, /^Envoyé de mon \w+/i];

/** A "On … wrote:" line that a client wrapped over two lines. */
const WROTE_TAIL = /\bwrote:?$|schrieb.{0,80}:$|a écrit\s*:$/i;

/**
 * The new part of a reply: everything before the first quote header, quoted (`>`) block or
 * signature delimiter. Falls back to the whole text when stripping would leave nothing (a message
 * that is only a quote, or top-posting detection gone wrong, must not turn into an empty entry).
 */
export function newPartOf(text: string): string {
  const lines = text.split('\n');
  const isQuoteHeader = (i: number): boolean => {
    const line = lines[i]!.trim();
    const joined = i + 1 < lines.length ? `${line} ${lines[i + 1]!.trim()}` : line;
    return (
      QUOTE_HEADERS.some((re) => re.test(line)) ||
      (/^On\b/i.test(line) && !WROTE_TAIL.test(line) && WROTE_TAIL.test(joined) && QUOTE_HEADERS.some((re) => re.test(joined))) ||
      (OUTLOOK_FROM.test(line) && lines.slice(i + 1, i + 3).some((next) => OUTLOOK_NEXT.test(next.trim())))
    );
  };
  const quoted = (line: string) => line.trim().startsWith('>');
  let end = lines.length;
  let interleaved = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (SIGNATURES.some((re) => re.test(line))) {
      end = i;
      break;
    }
    if (isQuoteHeader(i) || (quoted(line) && lines.slice(i).every((rest) => rest.trim() === '' || quoted(rest)))) {
      // "On … wrote:" followed by a quoted block and then more of the writer's own text is an answer
      // written between the quotes: keep the writer's lines, drop the quotes.
      let j = i + (WROTE_TAIL.test(line) || quoted(line) ? 1 : 2);
      while (j < lines.length && (quoted(lines[j]!) || lines[j]!.trim() === '')) j++;
      const firstQuoted = lines.slice(i + 1, i + 3).some(quoted);
      if (firstQuoted && j < lines.length && !isQuoteHeader(j) && !SIGNATURES.some((re) => re.test(lines[j]!.trim()))) {
        interleaved = true;
        continue;
      }
      end = i;
      break;
    }
  }
  let kept = lines.slice(0, end);
  if (interleaved) kept = kept.filter((l, i) => !quoted(l) && !(WROTE_TAIL.test(l.trim()) && isQuoteHeader(i)));
  while (kept.length > 0 && /^[\s\-_=*]*$/.test(kept[kept.length - 1]!)) kept.pop();
  const result = tidy(kept.join('\n'));
  return result || tidy(text.replace(/\u0000QUOTE/g, ''));
}

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
