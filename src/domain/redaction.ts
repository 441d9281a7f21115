/**
 * What leaves the desk for an AI model is redacted first: email addresses, phone numbers and secrets
 * (bearer tokens, API keys, passwords, connection strings, JWTs, private keys, card numbers) become
 * placeholders such as `[email]`, so a model never sees them and never repeats them in a draft.
 *
 * Pure and deliberately greedy: a false positive costs a word in a summary, a false negative leaks a
 * secret to a third party. Order matters: whole structures (private keys, connection strings, JWTs,
 * URLs with credentials) go before the pieces inside them (emails, long digit runs).
 */

export type RedactionKind = 'email' | 'phone' | 'secret' | 'card';

export interface Redacted {
  text: string;
  /** How many of each kind were replaced (for tests and the operator's confidence, never the values). */
  counts: Record<RedactionKind, number>;
}

const PLACEHOLDER: Record<RedactionKind, string> = { email: '[email]', phone: '[phone]', secret: '[secret]', card: '[card number]' };

interface Rule {
  kind: RedactionKind;
  pattern: RegExp;
  /** Replaces the match; by default the whole match becomes the placeholder. */
  replace?: (match: string, ...groups: string[]) => string;
  /** A match this returns false for stays as it is (e.g. a digit run that fails the Luhn check). */
  accept?: (match: string) => boolean;
}

/** `name=value` / `name: value` where the name says the value is secret. */
const SECRET_NAMES = String.raw`(?:pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|token|access[_-]?token|refresh[_-]?token|auth(?:orization)?|credentials?|sig|signature|accountkey|sharedaccesskey)`;

const RULES: Rule[] = [
  // PEM private keys, whole blocks (RFC 7468, https://www.rfc-editor.org/rfc/rfc7468).
  { kind: 'secret', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g },
  // Connection strings: a URL with user:password@ (postgres://u:p@h/db, amqp://, mongodb+srv://, https://u:p@h).
  { kind: 'secret', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@[^\s]+/gi },
  // Key=value connection strings (Azure Storage, SQL Server, Service Bus): the whole string goes. A lone
  // `password=x` is left to the name=value rule below, which keeps the name.
  { kind: 'secret', pattern: /\b(?:[A-Za-z ]+=[^;\s]*;)+\s*(?:AccountKey|SharedAccessKey|Password|Pwd)=[^;\s]+(?:;[A-Za-z ]+=[^;\s]*)*;?/gi },
  // JWTs (RFC 7519: three base64url parts, the header always starting with {" → eyJ).
  { kind: 'secret', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  // "Authorization: Bearer …" / "Basic …" and a bare "Bearer <token>".
  { kind: 'secret', pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, replace: (_m, scheme) => `${scheme} ${PLACEHOLDER.secret}` },
  // Vendors' recognisable token formats: GitHub (ghp_, gho_, ghs_, github_pat_), Slack (xox?-), OpenAI-style
  // (sk-…), AWS access key ids (AKIA…), Google API keys (AIza…), Stripe (sk_live_, rk_live_), npm (npm_).
  {
    kind: 'secret',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{16,}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[A-Za-z0-9_-]{30,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{30,})\b/g,
  },
  // name=value, name: value, "name": "value" where the name says it is secret.
  {
    kind: 'secret',
    pattern: new RegExp(String.raw`\b(${SECRET_NAMES})(["']?\s*(?:[:=]|\bis\b)\s*["']?)([^\s"',;]{3,})`, 'gi'),
    replace: (_m, name, between) => `${name}${between}${PLACEHOLDER.secret}`,
  },
  // Email addresses (the common shape of RFC 5322's addr-spec; quoted local parts are rare in tickets).
  { kind: 'email', pattern: /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // Card numbers: 13–19 digits, spaced or dashed in groups, that pass the Luhn check (ISO/IEC 7812).
  { kind: 'card', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, accept: (m) => luhn(m.replace(/\D/g, '')) },
  // Long opaque strings (hex or base64 of 32+ characters with digits and letters mixed): keys, hashes, SAS signatures.
  { kind: 'secret', pattern: /\b(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}/g },
  // Phone numbers: an optional +country code, then 7–15 digits in groups with spaces, dots, dashes or brackets.
  {
    kind: 'phone',
    pattern: /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}\b|\+\d{7,15}\b/g,
    accept: (m) => {
      const digits = m.replace(/\D/g, '');
      // Not a date (2026-11-23), a time or a version: phone numbers have 7+ digits and a date shape is left alone.
      return digits.length >= 7 && digits.length <= 15 && !/^\d{4}-\d{2}-\d{2}$/.test(m.trim());
    },
  },
];

/** Replaces every email address, phone number and secret in `text` with a placeholder. */
export function redact(text: string): Redacted {
  const counts: Record<RedactionKind, number> = { email: 0, phone: 0, secret: 0, card: 0 };
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      if (rule.accept && !rule.accept(match)) return match;
      // Already a placeholder (a later rule meeting an earlier one's output): leave it.
      if (/^\[(?:email|phone|secret|card number)\]$/.test(match)) return match;
      counts[rule.kind]++;
      const groups = rest.filter((g): g is string => typeof g === 'string');
      return rule.replace ? rule.replace(match, ...groups) : PLACEHOLDER[rule.kind];
    });
  }
  return { text: out, counts };
}

/** The Luhn checksum every payment card number carries (ISO/IEC 7812-1). */
function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
