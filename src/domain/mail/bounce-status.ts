/**
 * Delivery status codes in plain words for the agent, and the code a non-standard bounce means when
 * it gives only words.
 *
 * Codes are RFC 3463 enhanced status codes, `class.subject.detail`
 * (https://www.rfc-editor.org/rfc/rfc3463#section-3): class 2 success, 4 a transient failure the
 * sending server keeps retrying, 5 a permanent failure. IANA keeps the registry of details
 * (https://www.iana.org/assignments/smtp-enhanced-status-codes/).
 */

/** `2.1.5`, `4.2.2`, `5.1.10`: the first enhanced status code in a text, or null. */
export function statusCodeIn(text: string | null | undefined): string | null {
  if (!text) return null;
  const found = /(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/.exec(text);
  return found ? `${found[1]}.${Number(found[2])}.${Number(found[3])}` : null;
}

/** An SMTP reply code (RFC 5321 section 4.2) at the start of a diagnostic, `550` → `5.0.0`. */
export function classFromReplyCode(text: string | null | undefined): string | null {
  const found = text ? /(?:^|[^\d.])([245])\d\d(?:[\s-]|$)/.exec(text) : null;
  return found ? `${found[1]}.0.0` : null;
}

/**
 * What servers say in words when they give no code, mapped to the code RFC 3463 has for it. Checked
 * in order; the first that matches wins. Phrases from the bounces of the public corpus
 * (test/fixtures/email/bounces/).
 */
const PHRASES: ReadonlyArray<[RegExp, string]> = [
  [/mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(local )?(storage )?limit|insufficient (disk|storage)|number of messages in recipient's mailbox exceeded/i, '5.2.2'],
  [/message size exceeds|message too (large|big)|size limit/i, '5.3.4'],
  [/host (or domain name )?not found|host unknown|domain (does not|doesn't) exist|no such domain|unrouteable|unable to route|name service error/i, '5.1.2'],
  [/user unknown|unknown user|no such (user|mailbox|recipient)|recipient (address )?(not found|unknown|rejected)|invalid (final delivery userid|recipient|address|user)|address rejected|mailbox unavailable|(mailbox|user|address|account) (does not|doesn't) exist|not (recognized|listed in|found in)|recipient name is not recognized|nicht gefunden|見つかりません|ディレクトリのリストにありません/i, '5.1.1'],
  [/mailbox (is )?(disabled|inactive|suspended)|account (is )?(disabled|inactive|suspended)/i, '5.2.1'],
  [/timed out|connection (refused|reset)|unable to connect|couldn't connect|could not connect|establish an smtp connection/i, '5.4.1'],
  [/spam|blocked|blacklist|blocklist|policy|not permitted|relay(ing)? (access )?denied|content rejected|rejected your message|preferences of the person/i, '5.7.1'],
];

/** The code for what a diagnostic says in words, or null when it says nothing we know. */
export function statusFromWords(text: string | null | undefined): string | null {
  if (!text) return null;
  for (const [pattern, code] of PHRASES) if (pattern.test(text)) return code;
  return null;
}

const DETAILS: Record<string, string> = {
  '1.1': 'the mailbox does not exist',
  '1.2': "the recipient's domain does not exist or takes no mail",
  '1.3': 'the address is not valid',
  '1.4': 'the address is ambiguous',
  '1.6': 'the mailbox has moved',
  '1.10': "the recipient's domain takes no mail", // RFC 7505, null MX (Exchange also uses it for an unknown recipient)
  '2.1': 'the mailbox is disabled',
  '2.2': 'the mailbox is full',
  '2.3': 'the message is too large for the mailbox',
  '3.4': 'the message is too large',
  '4.1': "the recipient's server did not answer",
  '4.4': "no mail server could be found for the recipient's domain",
  '4.7': 'delivery took too long and was given up',
  '7.1': "refused by the recipient's server (policy or spam filter)",
};

const SUBJECTS: Record<string, string> = {
  '0': 'could not be delivered',
  '1': 'the address was not accepted',
  '2': "a problem with the recipient's mailbox",
  '3': "a problem with the recipient's mail system",
  '4': 'a network or routing problem',
  '5': 'a mail protocol problem',
  '6': "a problem with the message's content",
  '7': 'refused for security or policy reasons',
};

/** A status in words: 5.1.1 → "the mailbox does not exist"; 4.2.2 → "delayed, the server will keep trying: the mailbox is full". */
export function explainStatus(status: string | null | undefined): string {
  const code = statusCodeIn(status);
  if (!code) return 'could not be delivered';
  const [klass, subject, detail] = code.split('.') as [string, string, string];
  if (klass === '2') return 'delivered';
  const what = DETAILS[`${subject}.${detail}`] ?? SUBJECTS[subject] ?? 'could not be delivered';
  if (klass === '4') return what === 'could not be delivered' ? 'delayed, the server will keep trying' : `delayed, the server will keep trying: ${what}`;
  return what;
}
