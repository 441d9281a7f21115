import PostalMime, { type Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { threadToken, tokensIn } from '../../src/domain/mail/threading.js';
import { automaticMime, headerSafe, isMessageId, isSafeAddress, referencesFor, safeMailbox, UnsafeMailError, type AutomaticMail } from '../../src/services/mail/mime.js';
import { replyHtml } from '../../src/services/mail/outgoing.js';

// The automatic mail the desk sends, read back the way a customer's mail client would (postal-mime):
// what the customer sees must be what we meant, and nothing a customer typed may add a header or a
// recipient to it.

const SECRET = 'a1b2c3d4e5f6';
const TOKEN = threadToken(1042, SECRET);

const base = (): AutomaticMail => ({
  from: 'support@contoso.example',
  to: { address: 'kim@fabrikam.example', name: 'Kim Akers' },
  subject: 'RE: Cannot log in [INC-1042]',
  text: 'Hello Kim,\n\nYour request has been received.',
  messageId: '<sd.7.a1b2c3d4e5f6@contoso.example>',
  inReplyTo: '<CAF1x=abc@mail.fabrikam.example>',
  references: '<root@mail.fabrikam.example> <CAF1x=abc@mail.fabrikam.example>',
  token: TOKEN,
  date: new Date(Date.UTC(2026, 11, 2, 9, 30, 0)),
});

const longestLine = (lines: string[]) => lines.reduce((longest, line) => Math.max(longest, line.length), 0);

const compose = (change: Partial<AutomaticMail> = {}) => automaticMime({ ...base(), ...change });
const parse = (mime: string): Promise<Email> => PostalMime.parse(mime);

/**
 * The top-level header block as lines, and the header names in it (folded lines joined), less
 * Content-Transfer-Encoding, which a text-only message has at the top and a multipart one in its parts.
 */
const headerLines = (mime: string) => mime.slice(0, mime.indexOf('\r\n\r\n')).split('\r\n');
const headerNames = (mime: string) =>
  headerLines(mime)
    .filter((line) => !/^[ \t]/.test(line))
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase())
    .filter((name) => name !== 'content-transfer-encoding');

const AUTOMATIC_HEADERS = ['auto-submitted', 'content-type', 'date', 'from', 'in-reply-to', 'message-id', 'mime-version', 'precedence', 'references', 'subject', 'to', 'x-auto-response-suppress'];

describe('the MIME of automatic mail', () => {
  it('carries exactly the headers that thread it and keep robots from answering it', async () => {
    const mime = await compose();
    const mail = await parse(mime);
    expect(headerNames(mime).sort()).toEqual(AUTOMATIC_HEADERS);
    expect(mail.from).toEqual({ address: 'support@contoso.example', name: '' });
    expect(mail.to).toEqual([{ address: 'kim@fabrikam.example', name: 'Kim Akers' }]);
    expect(mail.cc).toBeUndefined();
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).toBe('RE: Cannot log in [INC-1042]');
    expect(mail.messageId).toBe('<sd.7.a1b2c3d4e5f6@contoso.example>');
    expect(mail.inReplyTo).toBe('<CAF1x=abc@mail.fabrikam.example>');
    expect(mail.references).toBe('<root@mail.fabrikam.example> <CAF1x=abc@mail.fabrikam.example>');
    expect(new Date(mail.date!).toISOString()).toBe('2026-12-02T09:30:00.000Z');
    const value = (name: string) => mail.headers.filter((h) => h.key === name).map((h) => h.value);
    expect(value('auto-submitted')).toEqual(['auto-replied']);
    expect(value('x-auto-response-suppress')).toEqual(['All']);
    expect(value('precedence')).toEqual(['auto_reply']);
    expect(value('mime-version')).toEqual(['1.0']);
    expect(mime).not.toMatch(/(^|\r\n)X-Mailer:/i);
  });

  it('uses CRLF line ends only, whatever the text had (RFC 5322 §2.3 allows no bare CR or LF)', async () => {
    const mime = await compose({ text: 'one\ntwo\r\nthree\rfour\n\rfive', html: '<p>a</p>\r<p>b</p>\n' });
    expect(mime.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect((await parse(mime)).text!.trimEnd()).toBe(`one\ntwo\nthree\nfour\n\nfive\n\n${TOKEN}`);
  });

  it('ends the text with the thread token and hides it in the HTML alternative, as agents replies do', async () => {
    const text = 'Hello Kim,\n\nWe reset your password.\nTry again & tell us <please>.';
    const mail = await parse(await compose({ text, html: replyHtml(text, 1042, SECRET) }));
    expect(mail.text!.trimEnd()).toBe(`${text}\n\n${TOKEN}`);
    expect(tokensIn(mail.text!)).toEqual([{ ticketId: 1042, secret: SECRET }]);
    expect(mail.html).toContain('Try again &amp; tell us &lt;please&gt;.');
    expect(mail.html).toMatch(new RegExp(`<div style="display:none[^"]*">${TOKEN.replace(/[[\]]/g, '\\$&')}</div>`));
  });

  it('sends a text-only message when no HTML is given', async () => {
    const mail = await parse(await compose());
    expect(mail.html).toBeUndefined();
    expect(mail.text!.trimEnd()).toBe(`${base().text}\n\n${TOKEN}`);
  });

  it('omits the threading headers when there is nothing to answer', async () => {
    const mime = await compose({ inReplyTo: null, references: null });
    const mail = await parse(mime);
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.references).toBeUndefined();
    expect(headerNames(mime)).not.toContain('references');
  });

  it('copies the cc recipients it is given, each checked like the recipient', async () => {
    const mail = await parse(await compose({ cc: [{ address: 'lee@fabrikam.example', name: 'Lee, Gu' }] }));
    expect(mail.cc).toEqual([{ address: 'lee@fabrikam.example', name: 'Lee, Gu' }]);
    await expect(compose({ cc: [{ address: 'lee@fabrikam.example>, evil@attacker.example', name: null }] })).rejects.toThrow(UnsafeMailError);
  });
});

describe('subjects and names in every language', () => {
  const subjects = [
    'RE: Passwort zurücksetzen funktioniert nicht [INC-1042]',
    'RE: Impossible de se connecter à l’intranet — « urgent » [INC-1042]',
    'RE: 无法登录门户网站，请帮忙 [INC-1042]',
    'RE: ログインできません。至急お願いします [INC-1042]',
    'RE: لا أستطيع تسجيل الدخول إلى البوابة [INC-1042]',
    'RE: אני לא מצליח להתחבר לפורטל [INC-1042]',
    'RE: mixed עברית and English and العربية [INC-1042]',
    'RE: 🎉🔥 party laptop 👩‍💻 broken 🇳🇴 [INC-1042]',
    `RE: ${'Überlange Betreffzeile mit Umlauten äöü '.repeat(12).trim()} [INC-1042]`,
  ];

  it.each(subjects)('%s survives, in RFC 2047 encoded-words folded under 78 characters', async (subject) => {
    const mime = await compose({ subject });
    expect((await parse(mime)).subject).toBe(subject);
    const subjectLines = headerLines(mime).slice(headerLines(mime).findIndex((l) => l.startsWith('Subject:')));
    expect(subjectLines[0]).toMatch(/^Subject: =\?UTF-8\?[QB]\?/);
    // Folded (RFC 5322 §2.1.1 and RFC 2047 §2): every header line is 78 characters or fewer, in ASCII.
    expect(longestLine(headerLines(mime))).toBeLessThanOrEqual(78);
    expect(headerLines(mime).join('')).toMatch(/^[\x20-\x7e]*$/);
  });

  const names = ['Zoë Åström', 'Smith, John', 'John "JJ" Smith', 'Kim <kim@attacker.example>', 'support@contoso.example', 'O’Brien, Seán "the boss" <x@y>', 'محمد عبد الله', 'דוד כהן', '山田 太郎', '🦄 Unicorn'];

  it.each(names)('the display name %s survives and stays one name of one recipient', async (name) => {
    const mime = await compose({ to: { address: 'kim@fabrikam.example', name } });
    const mail = await parse(mime);
    expect(mail.to).toEqual([{ address: 'kim@fabrikam.example', name }]);
    expect(longestLine(headerLines(mime))).toBeLessThanOrEqual(78);
  });

  it('folds a long plain ASCII subject between its words', async () => {
    const subject = `RE: ${'the printer on the third floor is jammed again '.repeat(20).trim()} [INC-1042]`;
    const mime = await compose({ subject });
    expect((await parse(mime)).subject).toBe(subject);
    expect(longestLine(headerLines(mime))).toBeLessThanOrEqual(78);
  });

  it('keeps a subject that merely looks like an encoded-word as the text it is', async () => {
    const subject = `RE: =?UTF-8?B?${Buffer.from('x\r\nBcc: evil@attacker.example').toString('base64')}?= [INC-1042]`;
    const mail = await parse(await compose({ subject }));
    expect(mail.subject).toBe(subject);
  });

  it('folds a subject with no spaces to fold at, and no line is longer than 998 (78 in the header)', async () => {
    const subject = `RE: ${'x'.repeat(5_000)} [INC-1042]`;
    const mime = await compose({ subject, text: 'y'.repeat(5_000) });
    expect((await parse(mime)).subject).toBe(subject);
    expect(longestLine(headerLines(mime))).toBeLessThanOrEqual(78);
    expect(longestLine(mime.split('\r\n'))).toBeLessThanOrEqual(998);
  });

  it('cuts a display name too long for one line', async () => {
    const mime = await compose({ to: { address: 'kim@fabrikam.example', name: 'K'.repeat(2_000) } });
    const [to] = (await parse(mime)).to!;
    expect(to).toEqual({ address: 'kim@fabrikam.example', name: 'K'.repeat(128) });
    expect(longestLine(mime.split('\r\n'))).toBeLessThanOrEqual(998);
  });

  it('writes an IDN domain as punycode and keeps an internationalised address (RFC 6532)', async () => {
    expect((await parse(await compose({ to: { address: 'kim@bücher.example', name: null } }))).to).toEqual([{ address: 'kim@xn--bcher-kva.example', name: '' }]);
    expect((await parse(await compose({ to: { address: 'jörg@bücher.example', name: 'Jörg' } }))).to).toEqual([{ address: 'jörg@bücher.example', name: 'Jörg' }]);
  });
});

describe('hostile fields', () => {
  const INJECTIONS = ['\r\nBcc: evil@attacker.example', '\nBcc: evil@attacker.example', '\rBcc: evil@attacker.example', '\r\n\r\nBcc: evil@attacker.example', '\u0000Bcc: evil@attacker.example', '\u2028Bcc: evil@attacker.example', '\u0085Bcc: evil@attacker.example', '\r\n Bcc: evil@attacker.example'];

  /** One recipient, the expected headers once each, no Bcc and no attacker anywhere in an address. */
  async function expectIntact(mime: string): Promise<Email> {
    const mail = await parse(mime);
    expect(headerNames(mime).sort()).toEqual(AUTOMATIC_HEADERS);
    expect(mail.to).toHaveLength(1);
    expect(mail.to![0]!.address).toBe('kim@fabrikam.example');
    expect(mail.cc).toBeUndefined();
    expect(mail.bcc).toBeUndefined();
    expect(mail.headers.filter((h) => /^(bcc|cc|to|from|subject)$/.test(h.key)).map((h) => h.key).sort()).toEqual(['from', 'subject', 'to']);
    expect([mail.from, ...mail.to!, mail.replyTo, mail.sender].flat().map((a) => a?.address ?? '')).not.toContain('evil@attacker.example');
    expect(mime).not.toMatch(/<evil@attacker\.example>/);
    // No line of the header block, folded or not, starts a Bcc.
    expect(headerLines(mime).some((line) => /^\s*bcc\s*:/i.test(line))).toBe(false);
    // The text part is still the text and the token.
    expect(tokensIn(mail.text ?? '')).toEqual([{ ticketId: 1042, secret: SECRET }]);
    return mail;
  }

  it.each(INJECTIONS)('a subject with %j stays one subject line', async (payload) => {
    const mail = await expectIntact(await compose({ subject: `RE: Help${payload} [INC-1042]` }));
    expect(mail.subject).toBe('RE: Help Bcc: evil@attacker.example [INC-1042]');
  });

  it.each(INJECTIONS)('a display name with %j stays one name', async (payload) => {
    const mail = await expectIntact(await compose({ to: { address: 'kim@fabrikam.example', name: `Kim${payload}` } }));
    expect(mail.to![0]!.name).toBe('Kim Bcc: evil@attacker.example');
  });

  it.each(INJECTIONS)('a recipient address with %j is refused with a clear error', async (payload) => {
    await expect(compose({ to: { address: `kim@fabrikam.example${payload}`, name: 'Kim' } })).rejects.toThrow(/recipient address .* is not one plain email address/s);
  });

  it.each(INJECTIONS)('our Message-ID with %j is refused', async (payload) => {
    await expect(compose({ messageId: `<sd.7.a1b2c3d4e5f6@contoso.example>${payload}` })).rejects.toThrow(UnsafeMailError);
  });

  it.each(INJECTIONS)('an answered Message-ID with %j is left out rather than sent', async (payload) => {
    const mail = await parse(await compose({ inReplyTo: `<CAF1x=abc@mail.fabrikam.example>${payload}`, references: null }));
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.references).toBeUndefined();
    expect(mail.headers.some((h) => h.key === 'bcc')).toBe(false);
  });

  it.each(INJECTIONS)('References with %j keep only their message ids', async (payload) => {
    const mail = await expectIntact(await compose({ references: `<root@mail.fabrikam.example>${payload} <mid@x.example>` }));
    expect(mail.references).toBe('<root@mail.fabrikam.example> <mid@x.example> <CAF1x=abc@mail.fabrikam.example>');
  });

  it.each(INJECTIONS)('a thread token with %j is refused', async (payload) => {
    await expect(compose({ token: `${TOKEN}${payload}` })).rejects.toThrow(UnsafeMailError);
  });

  it('a text body cannot reach the headers, and its NULs are dropped', async () => {
    const mail = await expectIntact(await compose({ text: 'Hi\r\n\r\nBcc: evil@attacker.example\r\n.\r\nTo: evil@attacker.example\u0000' }));
    expect(mail.text).toContain('Bcc: evil@attacker.example\n.\nTo: evil@attacker.example\n');
    expect(mail.text).not.toContain('\u0000');
  });

  const BAD_ADDRESSES = [
    'kim@fabrikam.example, evil@attacker.example',
    'kim@fabrikam.example;evil@attacker.example',
    'Kim <kim@fabrikam.example>',
    '<kim@fabrikam.example>',
    'kim@fabrikam.example>evil@attacker.example',
    '"kim evil"@fabrikam.example',
    'kim @fabrikam.example',
    'kim@fabrikam.example ',
    'kim',
    'kim@',
    '@fabrikam.example',
    'kim@@fabrikam.example',
    'kim@fabrikam',
    'kim@[127.0.0.1]',
    'kim..akers@fabrikam.example',
    'kim@-fabrikam.example',
    'kim@fabrikam..example',
    `${'k'.repeat(250)}@fabrikam.example`,
    'kim@fabrikam.example\u0000',
    'kim\u200e@fabrikam.example',
    '',
  ];

  it.each(BAD_ADDRESSES)('%j is not a safe address', (address) => {
    expect(isSafeAddress(address)).toBe(false);
    expect(() => safeMailbox({ address, name: null })).toThrow(UnsafeMailError);
  });

  it.each(['kim@fabrikam.example', 'kim.akers+tickets@mail.fabrikam.example', "o'brien@fabrikam.example", 'KIM@FABRIKAM.EXAMPLE', 'jörg@bücher.example', 'x_y-z@a-b.c.example'])('%s is a safe address', (address) => {
    expect(isSafeAddress(address)).toBe(true);
  });

  it('refuses a mailbox address that is not one plain address', async () => {
    await expect(compose({ from: 'support@contoso.example\r\nBcc: evil@attacker.example' })).rejects.toThrow(/mailbox address/);
  });
});

describe('the guards', () => {
  it('headerSafe makes a line break, a NUL or a separator one space, and leaves text alone', () => {
    expect(headerSafe('a\r\n\tb')).toBe('a b');
    expect(headerSafe('a \r\n \r\n b')).toBe('a b');
    expect(headerSafe('a\u0000b\u2028c\u2029d\u0085e\u007ff')).toBe('a b c d e f');
    expect(headerSafe('  Grüße  aus  Köln  ')).toBe('Grüße  aus  Köln');
    expect(headerSafe('שלום 👋 עולם')).toBe('שלום 👋 עולם');
  });

  it('isMessageId takes one <id@host> and nothing else', () => {
    expect(isMessageId('<CAF1x=abc+d@mail.fabrikam.example>')).toBe(true);
    for (const bad of ['CAF1x@mail.fabrikam.example', '<a@b> <c@d>', '<a b@c>', '<a@b>\r\n', '<no-at-sign>', '<a@b>>', '<<a@b>', `<${'a'.repeat(300)}@b>`, '<ä@b>']) expect(isMessageId(bad), bad).toBe(false);
  });

  it('References keep the first and the latest ids of a long thread', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `<m${i}@x.example>`);
    const refs = referencesFor(ids.join(' '), '<answered@x.example>');
    expect(refs).toHaveLength(20);
    expect(refs[0]).toBe('<m0@x.example>');
    expect(refs.slice(-2)).toEqual(['<m49@x.example>', '<answered@x.example>']);
    expect(referencesFor('<a@x.example>,<b@x.example><c@x.example> junk <a@x.example>', '<b@x.example>')).toEqual(['<a@x.example>', '<b@x.example>', '<c@x.example>']);
  });

  it('builds a message from huge hostile fields in linear time', async () => {
    // Measured on a 2-core machine at about 0.3 s; a quadratic step on these sizes takes minutes.
    const started = performance.now();
    const mime = await compose({
      subject: `${'Grüße\r\n '.repeat(50_000)}${' '.repeat(200_000)}${'x'.repeat(200_000)}`,
      to: { address: 'kim@fabrikam.example', name: `${' '.repeat(200_000)}\r\n${'é'.repeat(200_000)}` },
      text: 'line of text\n'.repeat(100_000),
      references: `${'<a@b.example> '.repeat(50_000)}${' '.repeat(200_000)}<${'x'.repeat(200_000)}`,
    });
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(mime.length).toBeGreaterThan(1_000_000);
    expect(longestLine(mime.split('\r\n'))).toBeLessThanOrEqual(998);
  });
});
