import { Parser } from 'htmlparser2';
import { runNow, type Steps } from './slices.js';
import { tidySteps } from './reply-text.js';

/**
 * An HTML email body as plain text, through a real HTML parser: htmlparser2's streaming tokenizer
 * (https://github.com/fb55/htmlparser2), which reads its input once, left to right, and calls us back
 * per tag and text run. We keep no tree and never recurse, so 10,000 nested blockquotes cost a
 * 10,000-entry array, not 10,000 stack frames.
 *
 * What the text keeps: paragraphs and line breaks, bulleted and numbered lists, links as
 * "text (https://…)" unless the text already is the address, and the reply structure, written the
 * way plain-text mail writes it so that one set of reply rules (reply-text.ts) serves both:
 * - quote containers become "> " lines: `blockquote` (Apple Mail, Thunderbird and iOS mark theirs
 *   `type="cite"`), Gmail's `gmail_quote`/`gmail_quote_container`, Yahoo's `yahoo_quoted`,
 *   Thunderbird's `moz-cite-prefix` (its "On … wrote:" line), AOL's `AOLMsgPart_…` parts;
 * - Outlook's reply header, after which the whole history follows as siblings rather than inside a
 *   container, becomes Outlook's own plain-text rule "________________________________": Outlook on
 *   the web and new Outlook (`#appendonsend`, `#divRplyFwdMsg`), Outlook desktop's
 *   `<div style="border:none;border-top:solid #E1E1E1 1.0pt…">` (#B5C4DF in older versions), and
 *   Outlook 2003's `OutlookMessageHeader`;
 * - signature containers (Gmail `gmail_signature`, Thunderbird `moz-signature`, Outlook `#Signature`
 *   and `#ms-outlook-mobile-signature`, mail.ru's signature widget) start with the "-- " delimiter
 *   of RFC 3676 §4.3 (https://www.rfc-editor.org/rfc/rfc3676#section-4.3).
 * What it drops: scripts, styles, the head, hidden content (`hidden`, `display:none`,
 * `visibility:hidden`, Outlook's `mso-hide:all`), comments (Outlook's conditional comments included)
 * and images (tracking pixels included). Entities are decoded once, by the parser.
 */

/** HTML beyond this many characters is not read (the caller keeps the original untouched). */
export const HTML_LIMIT = 6 * 1024 * 1024;
/** Text beyond this many characters is not kept. */
export const TEXT_LIMIT = 2 * 1024 * 1024;
/** Characters handed to the parser between yields. */
const CHUNK = 16 * 1024;
/**
 * Open elements the parser may hold. htmlparser2 keeps its open elements in an array it grows at the
 * front (`unshift`), so each open tag costs as much as the nesting depth: 80,000 nested `<b>` take it
 * 1.7 s, and 6 MB of them would never end. At this depth we stop the parser after the tag, start it
 * afresh on the rest of the input and keep what the open elements meant (quoted, hidden, in a list…)
 * for the rest of the body: the text is all there, the cost per tag stays bounded.
 */
export const NESTING_MAX = 256;

const DROPPED = new Set(['script', 'style', 'head', 'title', 'noscript', 'template', 'object', 'iframe', 'svg', 'math', 'canvas', 'audio', 'video', 'select', 'datalist', 'map']);
const PARAGRAPHS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'dl', 'figure']);
const BLOCKS = new Set(['div', 'section', 'article', 'header', 'footer', 'nav', 'aside', 'main', 'address', 'center', 'tr', 'dt', 'dd', 'li', 'ul', 'ol', 'pre', 'form', 'fieldset', 'caption', 'figcaption', 'details', 'summary', 'body', 'html']);
const QUOTE_CLASSES = new Set(['gmail_quote', 'gmail_quote_container', 'yahoo_quoted', 'moz-cite-prefix', 'protonmail_quote']);
const SIGNATURE_CLASSES = new Set(['gmail_signature', 'moz-signature']);
const SIGNATURE_IDS = new Set(['signature', 'ms-outlook-mobile-signature']);
/** Outlook's plain-text rendering of the line above a reply header. */
export const OUTLOOK_RULE = '________________________________';
/** More quote levels than this add no more "> " (the reply rules need one; a deep nest must not grow the text quadratically). */
const MAX_QUOTE_MARKS = 3;
/** Longest link address written out; longer ones (tracking redirects) are left out. */
const MAX_HREF = 2_000;

interface Frame {
  quote?: boolean;
  skip?: boolean;
  pre?: boolean;
  list?: { ordered: boolean; next: number };
  link?: { href: string };
  paragraph?: boolean;
  block?: boolean;
}

/** Builds the text line by line as the parser calls back. */
class TextBuilder {
  readonly lines: string[] = [];
  private line = '';
  private linePrefix = '';
  private spacePending = false;
  private blankPending = false;
  private size = 0;
  truncated = false;
  quoteDepth = 0;
  skipDepth = 0;
  preDepth = 0;
  /** Text of the innermost open link so far (for "text (url)"), capped. */
  linkText = '';
  linkDepth = 0;

  private startLine(): void {
    if (this.blankPending && this.lines.length > 0 && this.lines[this.lines.length - 1] !== '') this.push('');
    this.blankPending = false;
    this.linePrefix = this.quoteDepth > 0 ? '> '.repeat(Math.min(this.quoteDepth, MAX_QUOTE_MARKS)) : '';
  }

  private push(line: string): void {
    if (this.truncated) return;
    this.size += line.length + 1;
    if (this.size > TEXT_LIMIT) {
      this.truncated = true;
      return;
    }
    this.lines.push(line);
  }

  /** Text as the document has it: whitespace runs collapse to one space, as a browser shows them. */
  text(data: string): void {
    if (this.skipDepth > 0 || this.truncated) return;
    if (this.preDepth > 0) {
      const parts = data.split('\n');
      parts.forEach((part, i) => {
        if (i > 0) this.breakLine();
        this.append(part);
      });
      return;
    }
    const collapsed = data.replace(/[ \t\n\r\f]+/g, ' ');
    if (collapsed === ' ') {
      if (this.line !== '') this.spacePending = true;
      return;
    }
    const leading = collapsed.startsWith(' ');
    const trailing = collapsed.endsWith(' ');
    const words = collapsed.slice(leading ? 1 : 0, trailing ? -1 : undefined);
    if ((leading || this.spacePending) && this.line !== '') this.append(' ');
    this.spacePending = false;
    this.append(words);
    if (trailing) this.spacePending = true;
  }

  /** Writes text as is (list markers, link addresses, rules). */
  append(text: string): void {
    if (this.skipDepth > 0 || this.truncated || text === '') return;
    if (this.line === '') this.startLine();
    this.line += text;
    if (this.linkDepth > 0 && this.linkText.length < 1_000) this.linkText += text;
    if (this.line.length > 64 * 1024) this.breakLine(); // a line this long is not prose; keep lines bounded
  }

  /** `<br>`: ends the line, even an empty one. */
  breakLine(): void {
    if (this.skipDepth > 0) return;
    if (this.line === '') this.startLine();
    this.push(this.linePrefix + this.line.replace(/\u00a0/g, ' '));
    this.line = '';
    this.spacePending = false;
  }

  /** A block starts or ends: continue on a fresh line. */
  block(): void {
    if (this.skipDepth > 0) return;
    if (this.line !== '') this.breakLine();
    this.spacePending = false;
  }

  /** A paragraph starts or ends: continue after a blank line. */
  paragraph(): void {
    if (this.skipDepth > 0) return;
    this.block();
    this.blankPending = true;
  }

  /** A line of its own (a rule or a delimiter), once even if several containers ask for it. */
  marker(text: string): void {
    if (this.skipDepth > 0) return;
    this.block();
    if (this.lines[this.lines.length - 1] === text) return;
    this.append(text);
    this.breakLine();
  }

  finish(): string {
    this.block();
    return this.lines.join('\n');
  }
}

const sameAddress = (a: string, b: string) => a.replace(/\/$/, '').toLowerCase() === b.replace(/\/$/, '').toLowerCase();

function classesOf(attribs: Record<string, string>): string[] {
  return (attribs.class ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

/** `style` without spaces and lower case, for simple property checks. */
function styleOf(attribs: Record<string, string>): string {
  return (attribs.style ?? '').toLowerCase().replace(/\s+/g, '');
}

function isHidden(attribs: Record<string, string>, style: string): boolean {
  return 'hidden' in attribs || style.includes('display:none') || style.includes('visibility:hidden') || style.includes('mso-hide:all');
}

/** Outlook's reply header containers, after which the history follows. */
function isOutlookHeader(attribs: Record<string, string>, style: string, classes: string[]): boolean {
  const id = (attribs.id ?? '').toLowerCase();
  if (id === 'divrplyfwdmsg' || id === 'appendonsend') return true;
  if (classes.includes('outlookmessageheader')) return true;
  // Outlook desktop: a top border and no other border, around the From:/Sent:/To:/Subject: block.
  return style.includes('border:none') && /border-top:solid#(e1e1e1|b5c4df)/.test(style);
}

function isQuote(name: string, attribs: Record<string, string>, classes: string[]): boolean {
  if (name === 'blockquote') return true;
  if (classes.some((c) => QUOTE_CLASSES.has(c))) return true;
  return (attribs.id ?? '').startsWith('AOLMsgPart');
}

function isSignature(attribs: Record<string, string>, classes: string[]): boolean {
  return classes.some((c) => SIGNATURE_CLASSES.has(c)) || SIGNATURE_IDS.has((attribs.id ?? '').toLowerCase()) || attribs['data-signature-widget'] === 'container';
}

/** The steps of turning HTML into text; run them with `runNow` or `runInSlices`. */
export function* htmlTextSteps(html: string): Steps<{ text: string; truncated: boolean }> {
  const out = new TextBuilder();
  const frames: Frame[] = [];
  /** The open lists, innermost last (kept apart so that an item finds its list without a search). */
  const lists: Array<NonNullable<Frame['list']>> = [];
  /** Where in `input` the parser's current stream starts, and where to start it again when too deep. */
  let base = 0;
  let resumeAt = -1;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const frame: Frame = {};
        frames.push(frame);
        if (frames.length >= NESTING_MAX && resumeAt < 0) {
          resumeAt = base + parser.endIndex + 1;
          parser.pause();
        }
        const style = styleOf(attribs);
        if (DROPPED.has(name) || isHidden(attribs, style)) {
          frame.skip = true;
          out.skipDepth++;
          return;
        }
        if (out.skipDepth > 0) return;
        const classes = classesOf(attribs);
        if (isOutlookHeader(attribs, style, classes)) out.marker(OUTLOOK_RULE);
        if (isSignature(attribs, classes)) out.marker('-- ');
        if (isQuote(name, attribs, classes)) {
          out.block();
          frame.quote = true;
          out.quoteDepth++;
        }
        // A list stands apart from the text around it (browsers give it a margin); a nested one does not.
        if ((name === 'ul' || name === 'ol') && lists.length === 0) frame.paragraph = true;
        if (name === 'br') out.breakLine();
        else if (name === 'hr') out.marker('---');
        else if (PARAGRAPHS.has(name) || frame.paragraph) {
          frame.paragraph = true;
          out.paragraph();
        } else if (BLOCKS.has(name)) {
          frame.block = true;
          out.block();
        } else if (name === 'td' || name === 'th') out.text(' ');
        if (name === 'pre') {
          frame.pre = true;
          out.preDepth++;
        }
        if (name === 'ul' || name === 'ol') {
          frame.list = { ordered: name === 'ol', next: Number.parseInt(attribs.start ?? '1', 10) || 1 };
          lists.push(frame.list);
        }
        if (name === 'li') {
          const list = lists[lists.length - 1];
          const indent = '  '.repeat(Math.max(0, Math.min(lists.length - 1, 5)));
          out.append(list?.ordered ? `${indent}${list.next++}. ` : `${indent}• `);
        }
        if (name === 'a' && attribs.href) {
          frame.link = { href: attribs.href.trim() };
          if (out.linkDepth === 0) out.linkText = '';
          out.linkDepth++;
        }
      },
      ontext(data) {
        out.text(data);
      },
      onclosetag() {
        const frame = frames.pop();
        if (!frame) return;
        if (frame.skip) {
          out.skipDepth--;
          return;
        }
        if (frame.link) {
          out.linkDepth--;
          const shown = out.linkText.replace(/\s+/g, ' ').trim();
          const { href } = frame.link;
          const address = href.replace(/^mailto:/i, '');
          // A link without text is an image or a tracker; a link showing its own address needs no repeat.
          if (shown && /^(https?:|mailto:)/i.test(href) && href.length <= MAX_HREF && !sameAddress(shown, href) && !sameAddress(shown, address)) out.append(` (${href})`);
        }
        if (frame.list) lists.pop();
        if (frame.pre) out.preDepth--;
        if (frame.quote) {
          out.block();
          out.quoteDepth--;
        }
        if (frame.paragraph) out.paragraph();
        else if (frame.block) out.block();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  const input = html.length > HTML_LIMIT ? html.slice(0, HTML_LIMIT) : html;
  for (let at = 0; at < input.length; ) {
    const end = Math.min(input.length, at + CHUNK);
    parser.write(input.slice(at, end));
    if (resumeAt >= 0) {
      // Too deep (see NESTING_MAX): the open elements' effects stay on in `out`; the parser starts afresh.
      parser.reset();
      frames.length = 0;
      lists.splice(0, lists.length - 1);
      at = base = resumeAt;
      resumeAt = -1;
    } else at = end;
    yield;
  }
  parser.end();
  yield;
  const text = yield* tidySteps(out.finish());
  return { text, truncated: out.truncated || html.length > HTML_LIMIT };
}

/** Text of an HTML body: no markup, no hidden content, entities decoded, blank runs collapsed. */
export function htmlToText(html: string): string {
  return runNow(htmlTextSteps(html)).text;
}
