/**
 * The signs of a bounce or an automatic reply that a message's sender, subject and words give, for
 * mail that carries no report MIME type and no header saying what it is (classify.ts weighs them).
 * Every pattern is anchored or a plain alternation, so a check costs one pass over a capped text.
 */

/** Senders that only mail software uses (RFC 5321 section 4.5.5 and the servers' own names for themselves). */
const DAEMON = /^(mailer-daemon|mail-daemon|mailerdaemon|maildaemon|mail\.?delivery\.?subsystem|microsoftexchange[0-9a-f]{16,})(@|$)/i;
/** Mailboxes that also send bounces, but where a person may write too: only with another sign. */
const ADMIN = /^(postmaster|post_master|mailadmin|mail-?admin|mail-?delivery|bounce-?notification)(@|$)/i;

export function isBounceSender(address: string, options: { loose?: boolean } = {}): boolean {
  return DAEMON.test(address) || (options.loose === true && ADMIN.test(address));
}

/**
 * Subjects of delivery reports, as MTAs and Exchange write them in their languages (Exchange puts
 * its localized "Undeliverable:" in front of the original subject). Only ever one sign among two.
 */
const BOUNCE_SUBJECT = new RegExp(
  [
    '^[*\\s]*(',
    [
      'undeliver(able|ed)',
      'delivery (status notification|notification|fail(ed|ure)|has failed|problem|error)',
      'mail delivery (failed|failure|subsystem|system|problem)',
      'message delivery (failed|failure)',
      'returned mail',
      'mail returned',
      'failure notice',
      'non[- ]?delivery',
      'delivery status',
      'postmaster notify',
      'warning: could not send message',
      'notice: mail delivery status',
      'sorry, your message could not be delivered',
      'message you sent blocked',
      'mail system error',
      'could not send message',
      'delayed mail',
      'unzustellbar',
      'nicht zustellbar',
      'zustellung fehlgeschlagen',
      'non remis',
      'non distribuable',
      'échec de (la )?(remise|distribution)',
      'no se puede entregar',
      'mensaje no entregado',
      'non recapitabile',
      'mancato recapito',
      'onbestelbaar',
      'niet afgeleverd',
      'não é possível entregar',
      'kan ikke leveres',
      'ikke levert',
      'olevererbart',
      'kunde inte levereras',
      'ei voitu toimittaa',
      'niedostarczalne',
      'nie można dostarczyć',
      'невозможно доставить',
      'недоставленное сообщение',
      'ваше сообщение не доставлено',
      '配信不能',
      '配送エラー',
      '無法傳遞',
      '无法传递',
      '退信',
      '系統退信',
    ].join('|'),
    ')',
  ].join(''),
  'i',
);

export function bounceSubject(subject: string): boolean {
  return BOUNCE_SUBJECT.test(subject);
}

/**
 * Subjects of out-of-office and other automatic replies, in the form mail software writes them: the
 * phrase at the start, then a colon (Outlook, Exchange: "Automatic reply: <subject>"). "Out of office
 * setup fails" is a customer's question, not an auto-reply; so is a bare "Vacation" or
 * "Abwesenheit: Urlaubsantrag" on an HR desk, which is why words people use for their own requests
 * (vacation, absence, 不在, …) are not in the list, only the phrases automatic replies use.
 */
const AUTO_REPLY_PHRASES = [
  'auto(matic|mated)?[ -]?(reply|response|answer)',
  'out of (the )?office( reply| auto-?reply| notice| message)?',
  'away from (the )?office',
  'abwesenheitsnotiz',
  'automatische antwort',
  'réponse automatique',
  "réponse automatique d'absence du bureau",
  'absence du bureau',
  'absent du bureau',
  "message d'absence",
  'respuesta automática',
  'fuera de la oficina',
  'risposta automatica',
  'fuori sede',
  "fuori dall'ufficio",
  'afwezig',
  'automatisch antwoord',
  'afwezigheidsbericht',
  'automatisk svar',
  'autosvar',
  'poissaolo',
  'automaattinen vastaus',
  'autoodpowiedź',
  'automatyczna odpowiedź',
  'poza biurem',
  'автоответ',
  'автоматический ответ',
  'resposta automática',
  'ausente do escritório',
  'fora do escritório',
  'otomatik yanıt',
  'otomatik cevap',
  'automatická odpověď',
  'automatikus válasz',
  'răspuns automat',
  'αυτόματη απάντηση',
  '自動応答',
  '自動返信',
  '自动回复',
  '自動回覆',
  '自动答复',
  '자동 회신',
  '자동 응답',
];
const AUTO_REPLY_SUBJECT = new RegExp(`^(${AUTO_REPLY_PHRASES.join('|')})\\s*[:：]`, 'i');
/** Lotus Notes and Domino: "AUTO: Jane Doe is out of the office. (returning 05/01/2010)", "Jane Doe ist außer Haus." */
const NOTES_AUTO_REPLY = /^(?:auto: )?[^:]{1,80} (is out of the office|ist außer haus|est absent\(e\)? du bureau)\b/i;

/** The phrase that makes a subject an automatic reply's, or null. */
export function autoReplySubject(subject: string): string | null {
  const s = subject.trim();
  const found = AUTO_REPLY_SUBJECT.exec(s) ?? NOTES_AUTO_REPLY.exec(s);
  return found ? found[1]!.trim() : null;
}

const NOTICE_SCAN_CHARS = 64 * 1024;
/** What delivery failure notices say about the failure. */
const FAILURE_WORDS =
  /could not be delivered|(wasn't|was not|were not|unable|not able) (able )?to deliver|delivery (to the following recipients?|has failed|failed)|(did not|didn't|couldn't|could not) reach (the following|some or all)|permanent (fatal )?error|following address(es)? (failed|had)|undeliverable|returned to sender|no such user|user unknown|unknown user|recipient address rejected|mailbox unavailable|invalid (user|recipient) address|nicht zugestellt werden|n'a pas pu être (remis|distribué)|no se pudo entregar|配信できませんでした|送信できませんでした|送信に失敗|не может быть (доставлено|отправлено)/i;
/** What only mail software writes in such a notice: a status code, SMTP words, a server talking (Exchange's MSEXCH and RESOLVER tokens too). */
const SMTP_WORDS = /(^|[^\d.])[245]\.\d{1,3}\.\d{1,3}(?!\.?\d)|\b(smtp|mailer-daemon|mail delivery (system|subsystem)|remote (host|server)|rcpt to|mail system|diagnostic|qmail|postfix|exim|sendmail|msexch|resolver\.(adr|rst))\b/i;

/** The words of a delivery failure notice and of the server that wrote it, both. */
export function looksLikeBounceNotice(body: string): boolean {
  const text = body.length > NOTICE_SCAN_CHARS ? body.slice(0, NOTICE_SCAN_CHARS) : body;
  return FAILURE_WORDS.test(text) && SMTP_WORDS.test(text);
}
