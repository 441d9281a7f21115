import { classFromReplyCode, explainStatus, statusCodeIn, statusFromWords } from './bounce-status.js';
import { htmlToText } from './content.js';
import { header, messageIds, normalizeAddress, type InboundMail, type MailAttachment } from './message.js';

/**
 * Reads a bounce: which recipients failed, why (RFC 3463 status and the server's words), and which
 * message of ours it is about.
 *
 * Standard reports are RFC 3464 delivery status notifications: a multipart/report whose
 * message/delivery-status part holds one per-message block (Reporting-MTA, …) and one block per
 * recipient (Final-Recipient, Action, Status, Diagnostic-Code, Remote-MTA), header-style fields with
 * continuation lines (https://www.rfc-editor.org/rfc/rfc3464#section-2). The returned message, or
 * its headers, follows as message/rfc822 or text/rfc822-headers (https://www.rfc-editor.org/rfc/rfc6522).
 * Graph hands each part as an attachment; the caller passes their decoded texts (see reportPartsOf).
 *
 * Many servers send no such part (qmail, Exim, old Exchange, Yahoo, Gmail's older notices, most
 * filtering appliances); then the notice's own text is read: the recipient lines these servers write
 * (`<x@y>: host … said: 550 …`, an address alone on its line followed by the reason, `x@y on <date>`,
 * …), up to the line where the copy of the returned message starts.
 *
 * Bounded work: every text examined is cut at REPORT_PART_MAX_CHARS and every line at LINE_MAX_CHARS;
 * each line is read a constant number of times with anchored patterns, so the time is linear in the
 * (capped) input. At most REPORT_MAX_RECIPIENTS recipients are reported.
 */

/** How much of each part (and of the body) is examined: reports are small, the returned message may not be. */
export const REPORT_PART_MAX_CHARS = 256 * 1024;
export const REPORT_MAX_RECIPIENTS = 500;
const LINE_MAX_CHARS = 2_000;
const DIAGNOSTIC_MAX_CHARS = 300;
const MAX_IDS = 20;

export interface ReportPart {
  /** The part's MIME type as the mailbox gives it, e.g. `message/delivery-status`. */
  contentType: string;
  /** Its decoded text (reportPartsOf decodes Graph's base64 for you). */
  text: string;
}

export interface BouncedRecipient {
  address: string;
  /** RFC 3463 code, e.g. `5.1.1`; from the report, or from the server's words when it gave none. */
  status: string | null;
  /** RFC 3464 action: failed, delayed, delivered, relayed, expanded. */
  action: string | null;
  /** The server's reason on one line, at most 300 characters. */
  diagnostic: string | null;
  remoteMta: string | null;
}

export interface DeliveryReport {
  recipients: BouncedRecipient[];
  /** Message-IDs of the returned message, with angle brackets: match them to what we sent. */
  originalMessageIds: string[];
  originalSubject: string | null;
  reportingMta: string | null;
  kind: 'failed' | 'delayed' | 'relayed' | 'delivered' | 'unknown';
}

const REPORT_TYPES = /^(message\/(global-)?delivery-status|message\/(rfc822|global|partial)|(text|message)\/(global-)?(rfc822-)?headers|message\/feedback-report|text\/plain)\b/i;

/**
 * The texts of a message's attachments that can say something about a bounce, decoded from the
 * base64 Graph sends and cut at REPORT_PART_MAX_CHARS (only that much is decoded). Item attachments
 * (Graph's message/rfc822) carry no bytes in the listing: fetch their MIME with
 * `GET /users/{id}/messages/{id}/attachments/{id}/$value`
 * (https://learn.microsoft.com/en-us/graph/outlook-get-mime-message) and add them yourself.
 */
export function reportPartsOf(attachments: readonly MailAttachment[]): ReportPart[] {
  const parts: ReportPart[] = [];
  for (const a of attachments) {
    if (!a.contentBytes || !REPORT_TYPES.test(a.contentType)) continue;
    const base64 = a.contentBytes.slice(0, Math.ceil((REPORT_PART_MAX_CHARS * 4) / 3 / 4) * 4);
    parts.push({ contentType: a.contentType, text: Buffer.from(base64, 'base64').toString('utf8') });
  }
  return parts;
}

type ReportMail = Pick<InboundMail, 'headers' | 'body' | 'internetMessageId' | 'from' | 'to' | 'cc'>;

export function readDeliveryReport(mail: ReportMail, parts: readonly ReportPart[]): DeliveryReport {
  const dsnParts = parts.filter((p) => /^message\/(global-)?delivery-status/i.test(p.contentType));
  const returned = parts.filter((p) => /^(message\/(rfc822|global|partial)|(text|message)\/(global-)?(rfc822-)?headers)/i.test(p.contentType));
  const notices = parts.filter((p) => /^text\/plain/i.test(p.contentType));
  const bodyText = mail.body.type === 'html' ? htmlToText(cap(mail.body.content)) : cap(mail.body.content);

  let reportingMta: string | null = null;
  const recipients = new Recipients(new Set([...(mail.from ? [mail.from.address] : []), ...mail.to.map((a) => a.address), ...mail.cc.map((a) => a.address)].map(normalizeAddress)));
  const ids: string[] = [];
  let originalSubject: string | null = null;

  // The returned message: its Message-ID and Subject are in its header block.
  for (const part of returned) {
    const fields = headerBlock(linesOf(part.text));
    for (const id of messageIds(fields.get('message-id'))) ids.push(id);
    originalSubject ??= clean(decodeWords(fields.get('subject') ?? '')) || null;
  }

  // RFC 3464 fields: in the delivery-status parts or, from servers that break the MIME, in the body.
  for (const text of dsnParts.length > 0 ? dsnParts.map((p) => p.text) : [bodyText]) {
    for (const block of fieldBlocks(linesOf(text))) {
      if (block.has('reporting-mta')) reportingMta ??= typed(block.get('reporting-mta'));
      for (const id of messageIds(block.get('original-message-id') ?? block.get('x-original-message-id'))) ids.push(id);
      const recipient = recipientOf(block, dsnParts.length > 0);
      if (recipient) recipients.add(recipient);
    }
  }

  // The notice's words, up to the copy of the returned message.
  const notice = noticeOf([bodyText, ...notices.map((p) => p.text)]);
  if (recipients.size === 0) readNotice(notice, recipients);
  // Exim and Gmail name the failed addresses in a header too; used when the words gave none.
  if (recipients.size === 0) {
    for (const value of mail.headers.get('x-failed-recipients') ?? []) {
      for (const part of value.split(',')) {
        const address = firstAddress(part);
        if (address) recipients.add({ address, status: null, action: null, diagnostic: null, remoteMta: null });
      }
    }
  }
  recipients.fillDiagnostics(globalDiagnostic(notice.lines), delayedWords(notice.lines) ? 'delayed' : 'failed');
  reportingMta ??= reportingMtaIn(notice.lines);

  for (const line of [...notice.lines, ...notice.rest]) {
    const id = /^\s*message-id:\s*(<[^<>\s]+>)/i.exec(line)?.[1];
    if (id) ids.push(id);
  }
  originalSubject ??= subjectIn(notice.rest) ?? subjectIn(notice.lines);
  for (const name of ['in-reply-to', 'references']) for (const id of messageIds(header(mail, name))) ids.push(id);

  const list = recipients.list();
  return {
    recipients: list,
    originalMessageIds: [...new Set(ids)].filter((id) => id !== mail.internetMessageId).slice(0, MAX_IDS),
    originalSubject,
    reportingMta,
    kind: kindOf(list),
  };
}

/**
 * One line for the ticket's timeline and the agent: "could not deliver to kim@fabrikam.example: the
 * mailbox does not exist (5.1.1: 550 5.1.1 User unknown)".
 */
export function describeRecipient(r: BouncedRecipient): string {
  const detail = [r.status, r.diagnostic && r.diagnostic !== r.status ? r.diagnostic : null].filter(Boolean).join(': ');
  const suffix = detail ? ` (${detail})` : '';
  if (r.action === 'delayed' || (!r.action && r.status?.startsWith('4'))) {
    return `delivery to ${r.address} ${r.status?.startsWith('4') ? explainStatus(r.status) : 'delayed, the server will keep trying'}${suffix}`;
  }
  if (r.action === 'delivered' || r.action === 'relayed' || r.action === 'expanded') return `delivered to ${r.address}${r.action === 'delivered' ? '' : ` (${r.action})`}`;
  return `could not deliver to ${r.address}: ${explainStatus(r.status)}${suffix}`;
}

/** Collects recipients, one per address, first reason kept. */
class Recipients {
  private readonly byAddress = new Map<string, BouncedRecipient>();
  constructor(private readonly excluded: ReadonlySet<string>) {}

  get size(): number {
    return this.byAddress.size;
  }

  add(r: BouncedRecipient, fromNotice = false): void {
    // A notice names the bounce's own sender and addressee in passing; a report never lists them as failed.
    if (fromNotice && this.excluded.has(r.address)) return;
    const known = this.byAddress.get(r.address);
    if (known) {
      known.diagnostic ??= r.diagnostic;
      known.status ??= r.status;
      known.remoteMta ??= r.remoteMta;
      return;
    }
    if (this.byAddress.size < REPORT_MAX_RECIPIENTS) this.byAddress.set(r.address, { ...r });
  }

  /** A notice often gives one reason for all: lend it to those that have none, and fill in what follows from it. */
  fillDiagnostics(fallback: string | null, action: 'failed' | 'delayed'): void {
    for (const r of this.byAddress.values()) {
      r.diagnostic ??= fallback;
      r.action ??= action;
      r.status = refineStatus(r.status, r.diagnostic, r.action);
      r.remoteMta ??= r.diagnostic ? (/\bhost:?\s+([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i.exec(r.diagnostic)?.[1] ?? null) : null;
    }
  }

  list(): BouncedRecipient[] {
    return [...this.byAddress.values()];
  }
}

/**
 * A report's Status is often only the class (`5.0.0`) while the diagnostic says more (`550 5.1.1 …`,
 * or "User unknown"): keep the most specific code of the same class.
 */
function refineStatus(status: string | null, diagnostic: string | null, action: string | null): string | null {
  const stated = statusCodeIn(status);
  if (stated && !stated.endsWith('.0.0')) return stated;
  const klass = stated?.[0] ?? statusCodeIn(diagnostic)?.[0] ?? classFromReplyCode(diagnostic)?.[0] ?? (action === 'delayed' ? '4' : action === 'failed' || action === 'expired' ? '5' : action === 'delivered' || action === 'relayed' || action === 'expanded' ? '2' : undefined);
  if (!klass) return null;
  const fromDiagnostic = statusCodeIn(diagnostic);
  if (fromDiagnostic && fromDiagnostic[0] === klass && !fromDiagnostic.endsWith('.0.0')) return fromDiagnostic;
  if (klass !== '2') {
    const worded = statusFromWords(diagnostic);
    if (worded) return `${klass}${worded.slice(1)}`;
  }
  return stated ?? fromDiagnostic ?? `${klass}.0.0`;
}

function kindOf(recipients: readonly BouncedRecipient[]): DeliveryReport['kind'] {
  // `expired` is not an RFC 3464 action, but SendGrid and others write it for a message they gave up on.
  const actions = new Set(recipients.map((r) => (r.action === 'expired' ? 'failed' : r.action) ?? (r.status?.startsWith('5') ? 'failed' : r.status?.startsWith('4') ? 'delayed' : r.status?.startsWith('2') ? 'delivered' : 'unknown')));
  if (actions.has('failed')) return 'failed';
  if (actions.has('delayed')) return 'delayed';
  if (actions.has('relayed') || actions.has('expanded')) return 'relayed';
  if (actions.has('delivered')) return 'delivered';
  return 'unknown';
}

// --- RFC 3464 fields -------------------------------------------------------------------------------

function cap(text: string): string {
  return text.length > REPORT_PART_MAX_CHARS ? text.slice(0, REPORT_PART_MAX_CHARS) : text;
}

function linesOf(text: string): string[] {
  return cap(text)
    .split('\n')
    .map((line) => (line.length > LINE_MAX_CHARS ? line.slice(0, LINE_MAX_CHARS) : line).replace(/\r$/, ''));
}

const FIELD = /^([A-Za-z][A-Za-z0-9-]{0,76})[ \t]*:[ \t]*(.*)$/;

/** Header-style blocks separated by blank lines, continuation lines folded in (RFC 5322 section 2.2.3). */
function fieldBlocks(lines: readonly string[]): Array<Map<string, string>> {
  const blocks: Array<Map<string, string>> = [];
  let block = new Map<string, string>();
  let last: string | undefined;
  const close = () => {
    if (block.size > 0) blocks.push(block);
    block = new Map();
    last = undefined;
  };
  for (const line of lines) {
    if (line.trim() === '') close();
    else if (/^[ \t]/.test(line) && last) block.set(last, `${block.get(last)} ${line.trim()}`);
    else {
      const field = FIELD.exec(line);
      if (!field) {
        close();
        continue;
      }
      last = field[1]!.toLowerCase();
      // A field given twice in a block (two Final-Recipient lines) starts a new recipient.
      if (block.has(last) && (last === 'final-recipient' || last === 'original-recipient') && block.has('action')) {
        const name = last;
        close();
        last = name;
      }
      if (!block.has(last)) block.set(last, field[2]!.trim());
    }
  }
  close();
  return blocks;
}

/** The header block at the top of a returned message (or of a headers-only part). */
function headerBlock(lines: readonly string[]): Map<string, string> {
  const end = lines.findIndex((l) => l.trim() === '');
  return fieldBlocks(end === -1 ? lines : lines.slice(0, end))[0] ?? new Map();
}

/** `rfc822; x@y` → `x@y`; `dns; mx.example` → `mx.example`. */
function typed(value: string | undefined): string | null {
  if (!value) return null;
  const semi = value.indexOf(';');
  return clean(semi === -1 ? value : value.slice(semi + 1)).replace(/^<([^<>]*)>$/, '$1') || null;
}

function recipientOf(block: ReadonlyMap<string, string>, inReportPart: boolean): BouncedRecipient | undefined {
  const address = [block.get('final-recipient'), block.get('original-recipient')].map((v) => firstAddress(typed(v) ?? '')).find(Boolean);
  if (!address) return undefined;
  // In a body (not a delivery-status part) insist on a second DSN field, so prose with "Recipient:" is not read as a report.
  if (!inReportPart && !block.has('action') && !block.has('status')) return undefined;
  return {
    address,
    status: statusCodeIn(block.get('status')),
    action: block.get('action')?.trim().split(/[\s(;]/)[0]?.toLowerCase() || null,
    diagnostic: diagnosticOf(typed(block.get('diagnostic-code'))),
    remoteMta: typed(block.get('remote-mta')),
  };
}

// --- Non-standard notices --------------------------------------------------------------------------

/** Where the copy of the returned message starts in the servers' notices. */
const RETURNED_COPY =
  /below this line is a copy of the message|this is a copy of the message|copy of the original message|original message follows|-{2,} ?original message|original message ?-{2,}|returned message ?-{2,}|-{2,} ?returned message|unsent message follows|header of the original message|undelivered message (headers )?follows|^-{3,} ?(message|headers) follow/i;

interface Notice {
  /** Lines of the notices, before the returned message. */
  lines: string[];
  /** Lines of the returned message quoted after them. */
  rest: string[];
}

function noticeOf(texts: readonly string[]): Notice {
  const lines: string[] = [];
  const rest: string[] = [];
  for (const text of texts) {
    const all = linesOf(text);
    const at = all.findIndex((l) => RETURNED_COPY.test(l));
    lines.push(...(at === -1 ? all : all.slice(0, at)));
    if (at !== -1) rest.push(...all.slice(at + 1));
  }
  return { lines, rest };
}

/** Words before an address that say the address is the failed recipient (`RCPT TO:`, `Invalid final delivery userid:`). */
const RECIPIENT_LEAD = /^((<<< ?)?[245]\d\d( [245]\.\d{1,3}\.\d{1,3})?|.{0,40}\b(recipients?|user|userid|address|mailbox)\s*:)$/i;
/** Words before an address that name it as the failed recipient, the reason being elsewhere in the notice (Gmail, Exchange Online). */
const NAMING_LEAD = /^(>>>|rcpt to:|your message to|.{0,60}\b(wasn't|was not|couldn't be|could not be|not) delivered to)$/i;

function readNotice(notice: Notice, recipients: Recipients): void {
  const { lines } = notice;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const found = addressAt(line);
    if (!found) continue;
    const lead = line.slice(0, found.start).replace(/[<"'\s]+$/, '').trim();
    const tail = line.slice(found.end).replace(/^[>"']+/, '');
    if (NAMING_LEAD.test(lead)) {
      recipients.add({ address: found.address, status: null, action: null, diagnostic: null, remoteMta: null }, true);
      continue;
    }
    if (lead !== '' && !RECIPIENT_LEAD.test(lead)) continue;
    let diagnostic: string | null = null;
    if (/^[\s<>()"':,;]*$/.test(tail.toLowerCase().split(found.address).join(''))) {
      // An address on a line of its own (maybe twice: `x@y (x@y)`): the reason, if any, is on the lines under it.
      diagnostic = reasonBelow(lines, i) ?? (lead ? lead.replace(/:$/, '') : null);
    } else if (/^(<<< ?)?[245]\d\d/.test(lead)) {
      // A transcript line: `554 <x@y>... 550 Host unknown`.
      diagnostic = `${lead} ${tail.replace(/^[\s.:]+/, '')}`;
    } else if (/^\s*:\s*\S/.test(tail)) {
      diagnostic = [tail.replace(/^\s*:\s*/, ''), ...continuation(lines, i)].join(' ');
    } else if (/^\s+on\s/i.test(tail)) {
      diagnostic = reasonBelow(lines, i);
    } else if (/^\s*\[[^\]]+\]\s*$/.test(tail)) {
      diagnostic = tail.trim().slice(1, -1);
    } else if (statusCodeIn(tail) || classFromReplyCode(tail) || statusFromWords(tail)) {
      diagnostic = tail;
    } else continue;
    recipients.add({ address: found.address, status: null, action: null, diagnostic: diagnosticOf(diagnostic), remoteMta: null }, true);
  }
}

/** Indented lines that continue a line (Postfix folds its reasons that way). */
function continuation(lines: readonly string[], i: number): string[] {
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && out.length < 6 && /^[ \t]+\S/.test(lines[j]!); j++) out.push(lines[j]!.trim());
  return out;
}

/** The lines under an address, up to a blank line or the next address line. */
function reasonBelow(lines: readonly string[], i: number): string | null {
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && out.length < 6; j++) {
    const line = lines[j]!.trim();
    if (line === '') break;
    const next = addressAt(line);
    if (next && next.start === 0 && /^[>"':\s]*$/.test(line.slice(next.end))) break;
    out.push(line);
  }
  return out.length > 0 ? out.join(' ') : null;
}

/** One reason for the whole notice: Exchange's "Remote Server returned '…'", or the first line with an SMTP code. */
function globalDiagnostic(lines: readonly string[]): string | null {
  for (const line of lines) {
    const exchange = /remote server returned '([^']{3,})'/i.exec(line);
    if (exchange) return diagnosticOf(exchange[1]!);
  }
  for (const line of lines) {
    const at = /(?:^|[\s(:'"])([245]\d\d[\s-]+\S|[245]\.\d{1,3}\.\d{1,3}\s)/.exec(line);
    if (at && !/^\s*(received|date|arrival-date|last-attempt-date):/i.test(line)) return diagnosticOf(line.slice(at.index).replace(/^[\s(:'"]/, ''));
  }
  // No code anywhere: the first line that says what went wrong in words we know.
  for (const line of lines) if (statusFromWords(line) && !FIELD.test(line)) return diagnosticOf(line);
  return null;
}

function delayedWords(lines: readonly string[]): boolean {
  return lines.some((l) => /\bdelayed\b|will (be )?retr(y|ied)|warning message only|could not send message for past|still trying|not yet been delivered/i.test(l));
}

function reportingMtaIn(lines: readonly string[]): string | null {
  for (const line of lines) {
    const at = /this is the (?:mail system|qmail-send program|mail delivery agent|mail delivery software) at (?:host )?([a-z0-9-]+(?:\.[a-z0-9-]+)+)|reporting-mta:\s*<?(?:dns;\s*)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)|generating server:\s*([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i.exec(line);
    if (at) return at[1] ?? at[2] ?? at[3] ?? null;
  }
  return null;
}

function subjectIn(lines: readonly string[]): string | null {
  for (const line of lines) {
    const at = /^\s*subject:\s*(\S.*)$/i.exec(line) ?? /the message subject was:\s*(\S.*)$/i.exec(line);
    if (at) return clean(decodeWords(at[1]!)) || null;
  }
  return null;
}

// --- Small text helpers ----------------------------------------------------------------------------

/** Characters that end an address in running text. */
const STOP = new Set([...' \t<>()[]"\',;:@\\']);

/**
 * The first address in a line, found from its `@` outwards rather than with a regular expression,
 * so a long line without one costs one pass.
 */
function addressAt(line: string): { address: string; start: number; end: number } | undefined {
  let from = 0;
  for (;;) {
    const at = line.indexOf('@', from);
    if (at === -1) return undefined;
    let start = at;
    while (start > 0 && !STOP.has(line[start - 1]!)) start--;
    let end = at + 1;
    while (end < line.length && !STOP.has(line[end]!)) end++;
    while (end > at + 1 && line[end - 1] === '.') end--;
    const domain = line.slice(at + 1, end);
    if (start < at && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain) && domain.length <= 253) {
      return { address: normalizeAddress(line.slice(start, end)), start, end };
    }
    from = at + 1;
  }
}

function firstAddress(text: string): string | undefined {
  return addressAt(text)?.address;
}

/** One readable line: no `smtp;` type, no runs of blanks, at most DIAGNOSTIC_MAX_CHARS. */
function diagnosticOf(text: string | null | undefined): string | null {
  if (!text) return null;
  let line = clean(text.replace(/^\s*(smtp|x-[a-z0-9-]+)\s*;\s*/i, ''));
  // Exchange wraps the remote server's words: "Remote Server returned '550 5.1.10 …'".
  line = /^remote server returned '([^']{3,})'$/i.exec(line)?.[1] ?? line;
  if (!line) return null;
  return line.length > DIAGNOSTIC_MAX_CHARS ? `${line.slice(0, DIAGNOSTIC_MAX_CHARS - 1)}…` : line;
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * RFC 2047 encoded words in a returned Subject (https://www.rfc-editor.org/rfc/rfc2047#section-4),
 * decoded with the platform's TextDecoder; a charset it does not know is left as written.
 */
function decodeWords(text: string): string {
  return text.replace(/=\?([^?\s]{1,40})\?([bq])\?([^?\s]*)\?=(\s+(?==\?))?/gi, (word, charset: string, encoding: string, data: string) => {
    try {
      const bytes = encoding.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(charset).decode(bytes);
    } catch {
      return word;
    }
  });
}
