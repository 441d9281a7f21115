import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encodeWord } from 'nodemailer/lib/mime-funcs';

/**
 * The MIME of the mail the desk sends as a whole message (acknowledgements, and replies whose
 * original is gone from the mailbox), and the guards every outgoing field passes through, MIME or
 * Graph JSON alike, so that nothing a customer typed (a name, a subject) or a stored header (a
 * Message-ID) can add a header, a recipient or a MIME part.
 *
 * Composed by nodemailer's MailComposer (https://nodemailer.com/extras/mailcomposer/), the composer
 * behind the most used Node mail library: it writes RFC 2047 encoded-words folded to RFC 5322's line
 * limits, encodes display names and IDN domains, picks a transfer encoding per part and streams the
 * build. We chose it over `mimetext`, which is smaller but leaves folding and address encoding to its
 * caller. What stays ours: which headers an automatic reply carries, and the refusals below.
 */

/** A mailbox as the outbox stores it. */
export interface MailboxInput {
  address: string;
  name: string | null;
}

export interface AutomaticMail {
  from: string;
  to: MailboxInput;
  /** Copies; addresses are checked like `to`. */
  cc?: MailboxInput[];
  subject: string;
  text: string;
  /** An HTML alternative (e.g. `replyHtml(...)` from ./outgoing.ts), so the hidden token travels as in agents' replies. */
  html?: string;
  /** Our own Message-ID, `<id@host>`. */
  messageId: string;
  /** The Message-ID of the message answered; dropped unless it is one `<id@host>`. */
  inReplyTo: string | null;
  /** The References of the message answered; only its `<id@host>` tokens are kept. */
  references: string | null;
  /** The thread token, appended to the text as its last line. */
  token: string;
  date: Date;
}

/** A field that cannot be sent safely: the mail is refused, whole, rather than sent altered in meaning. */
export class UnsafeMailError extends Error {
  override readonly name = 'UnsafeMailError';
}

/**
 * C0 controls (CR, LF, NUL, TAB, …), DEL, C1 controls and Unicode's line and paragraph separators:
 * none belongs in a header value (RFC 5322 §2.2, https://www.rfc-editor.org/rfc/rfc5322#section-2.2),
 * and CR/LF are how a value would start a header of its own. A run of them, with the spaces after it,
 * is one break (a greedy class with nothing after it: linear time on any input).
 */
const BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029][ \u0000-\u001f\u007f-\u009f\u2028\u2029]*/;

/**
 * A header value (a subject, a display name) as one line of text: every break becomes a single space,
 * as unfolding a header would make it. Neutralised rather than refused, because such characters come
 * from what customers' mail clients wrote and the text around them is still worth keeping.
 */
export function headerSafe(value: string): string {
  return value
    .split(BREAK)
    .map((piece) => piece.trimEnd())
    .join(' ')
    .trim();
}

// RFC 5321 §4.5.3.1 (https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1): a path is at most 256
// octets with its angle brackets, so an address at most 254.
const MAX_ADDRESS = 254;
// A dot-atom local part (RFC 5322 §3.4.1) in ASCII or, as RFC 6531 allows, UTF-8 letters; a domain
// of dot-separated labels of letters, digits and hyphens (IDN domains in Unicode are fine: the
// composer writes them as punycode). Quoted local parts and address literals are refused: real
// customers don't have them and they are where parsers disagree.
const ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const ADDRESS = new RegExp(`^${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})+$`, 'u');

/** One plain `local@domain` address with nothing around it that could carry another one or a header. */
export function isSafeAddress(address: string): boolean {
  if (typeof address !== 'string' || address.length > MAX_ADDRESS || !ADDRESS.test(address)) return false;
  // And the composer's own parser must read it as exactly this one mailbox.
  const parsed = addressparser(address, { flatten: true });
  return parsed.length === 1 && parsed[0]!.address === address;
}

/**
 * Display names longer than this are cut: an ASCII name is written as one quoted string, which a
 * header cannot fold inside, and RFC 5322 §2.1.1 caps a line at 998 characters.
 */
const MAX_NAME = 128;

/** A recipient for the composer: the address checked (refused if unsafe), the name made one short line. */
export function safeMailbox(input: MailboxInput, field = 'recipient'): { address: string; name: string } {
  if (!isSafeAddress(input.address)) throw new UnsafeMailError(`the ${field} address ${JSON.stringify(String(input.address).slice(0, 100))} is not one plain email address; correct it, then re-drive the mail`);
  return { address: input.address, name: [...headerSafe(input.name ?? '')].slice(0, MAX_NAME).join('').trim() };
}

/**
 * The Subject header. The composer encodes only what is not plain ASCII, which leaves two cases to
 * us: a run of text too long to fold (a line must stay under 998 characters, RFC 5322 §2.1.1), and
 * text that merely looks like an encoded-word (`=?UTF-8?B?...?=`), which a reader would decode into
 * something else (RFC 2047 §6.1, https://www.rfc-editor.org/rfc/rfc2047#section-6.1). Both are
 * written as encoded-words of at most 52 characters, folded between words.
 */
function subjectHeader(subject: string): string | { prepared: true; foldLines: true; value: string } {
  const clean = headerSafe(subject);
  if (!/=\?|\S{60,}/.test(clean)) return clean;
  return { prepared: true, foldLines: true, value: encodeWord(clean, 'Q', 52) };
}

// A msg-id (RFC 5322 §3.6.4, https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4) as dot-atom-text
// on both sides of the @, in ASCII: what every mail system writes, and nothing that can end a header.
const MSG_ID_TEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*";
const MSG_ID = new RegExp(`^<${MSG_ID_TEXT}@${MSG_ID_TEXT}>$`);

// RFC 5322 keeps a line under 998 characters; a Message-ID far shorter than that is all anybody writes.
const MAX_MESSAGE_ID = 250;

export const isMessageId = (value: string): boolean => value.length <= MAX_MESSAGE_ID && MSG_ID.test(value);

/**
 * The References we send: the `<id@host>` tokens of the answered message's References, then its own
 * Message-ID (RFC 5322 §3.6.4). A long thread keeps its first id and its latest ones, the trimming
 * Netnews prescribes (RFC 5537 §3.4.4, https://www.rfc-editor.org/rfc/rfc5537#section-3.4.4), so the
 * header stays a few lines long however long the thread.
 */
const MAX_REFERENCES = 20;

export function referencesFor(references: string | null, inReplyTo: string | null): string[] {
  const tokens = ((references ?? '').match(/<[^<>]*>/g) ?? []).filter((t) => isMessageId(t));
  if (inReplyTo && isMessageId(inReplyTo)) tokens.push(inReplyTo);
  const unique = [...new Set(tokens)];
  return unique.length <= MAX_REFERENCES ? unique : [unique[0]!, ...unique.slice(-(MAX_REFERENCES - 1))];
}

/**
 * A body as lines: every CR, LF or CRLF one line end (the composer makes them CRLF; a bare CR would
 * stay bare, which RFC 5322 §2.3 forbids), and no NUL, allowed in no transfer encoding a receiver
 * must accept (RFC 2045 §2.7, https://www.rfc-editor.org/rfc/rfc2045#section-2.7).
 */
const bodyText = (text: string) => text.replace(/\r\n?/g, '\n').replace(/\u0000/g, '');

/**
 * The whole message, CRLF line ends, as a string (the composer's output is 7-bit unless an address
 * has a UTF-8 local part, which stays UTF-8 as RFC 6532 asks; Graph's sendMail takes it base64-encoded).
 * Throws UnsafeMailError when an address or our own Message-ID cannot be sent as given.
 */
export async function automaticMime(mail: AutomaticMail): Promise<string> {
  if (!isSafeAddress(mail.from)) throw new UnsafeMailError(`the mailbox address ${JSON.stringify(mail.from)} is not one plain email address`);
  if (!isMessageId(mail.messageId)) throw new UnsafeMailError(`the Message-ID ${JSON.stringify(mail.messageId.slice(0, 100))} is not one <id@host>`);
  if (headerSafe(mail.token) !== mail.token || mail.token === '') throw new UnsafeMailError('the thread token must be one line of text');
  const inReplyTo = mail.inReplyTo && isMessageId(mail.inReplyTo) ? mail.inReplyTo : undefined;
  const composer = new MailComposer({
    from: { address: mail.from, name: '' },
    to: safeMailbox(mail.to, 'recipient'),
    ...(mail.cc?.length ? { cc: mail.cc.map((c) => safeMailbox(c, 'copy')) } : {}),
    messageId: mail.messageId,
    date: mail.date,
    // Threading headers only when we know what we answer: a References without In-Reply-To would
    // claim a parent we cannot name.
    ...(inReplyTo ? { inReplyTo, references: referencesFor(mail.references, inReplyTo) } : {}),
    headers: {
      Subject: subjectHeader(mail.subject),
      // RFC 3834 (https://www.rfc-editor.org/rfc/rfc3834#section-5): an automatic answer, so
      // auto-responders don't answer it back.
      'Auto-Submitted': 'auto-replied',
      // Exchange and Outlook: send no out-of-office or other automatic reply to this message
      // (https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcmail/ced68690-498a-4567-9d14-5c01f974d8b1).
      'X-Auto-Response-Suppress': 'All',
      // Not standard, but the header older list servers and vacation programs look at.
      Precedence: 'auto_reply',
    },
    text: `${bodyText(mail.text)}\n\n${mail.token}\n`,
    ...(mail.html !== undefined ? { html: bodyText(mail.html) } : {}),
    newline: 'win',
    // Our content is strings; never let a value be read as a file path or URL to fetch.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const built = await composer.compile().build();
  return built.toString('utf8');
}
