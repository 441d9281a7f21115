import { header, normalizeAddress, type InboundMail } from './message.js';

/**
 * Whether a received email really comes from the address in its From line, as the receiving Exchange
 * Online server judged it. Exchange writes its verdict on top of every message it accepts from outside
 * (`Authentication-Results`: SPF, DKIM, DMARC and its composite `compauth`), and marks mail that never
 * left the organisation with `X-MS-Exchange-Organization-AuthAs: Internal`, a header its header
 * firewall strips from anything arriving from outside, so a sender cannot forge it:
 * https://learn.microsoft.com/en-us/defender-office-365/message-headers-eop-mdo#authentication-results-message-header
 * https://learn.microsoft.com/en-us/exchange/mail-flow/mail-routing/header-firewall
 *
 * Only the topmost Authentication-Results counts: it is the one the receiving server added last
 * (RFC 8601 section 5); any below it came with the message and prove nothing.
 */

export type Verdict = 'pass' | 'fail' | 'none';

export interface SenderAuthentication {
  verdict: Verdict;
  /** What the verdict rests on, for the timeline and the card: "dmarc=fail, spf=fail". */
  evidence: string;
}

/** A method's result in an Authentication-Results value (`dmarc=pass action=none …`). */
export type Results = Partial<Record<'spf' | 'dkim' | 'dmarc' | 'compauth', string>> & { headerFrom?: string; dkimDomain?: string };

/** At most this much of the header is read: real ones are a few hundred characters. */
const HEADER_MAX = 8_192;

/** Parses the results of one Authentication-Results header; unknown methods and comments are skipped. */
export function parseAuthenticationResults(value: string): Results {
  const results: Results = {};
  // Comments in parentheses may contain anything, ";" included: drop them first (not nested in practice).
  const text = value.slice(0, HEADER_MAX).replace(/\([^()]*\)/g, ' ');
  for (const clause of text.split(';')) {
    const words = clause.trim().split(/\s+/);
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq <= 0) continue;
      const key = word.slice(0, eq).toLowerCase();
      const val = word.slice(eq + 1).toLowerCase().replace(/^"|"$/g, '');
      if ((key === 'spf' || key === 'dkim' || key === 'dmarc' || key === 'compauth') && results[key] === undefined) results[key] = val;
      else if (key === 'header.from' && results.headerFrom === undefined) results.headerFrom = val;
      else if (key === 'header.d' && results.dkimDomain === undefined) results.dkimDomain = val;
    }
  }
  return results;
}

const PASSING = new Set(['pass', 'bestguesspass']);

export function authenticate(mail: Pick<InboundMail, 'headers' | 'from'>): SenderAuthentication {
  if (header(mail, 'x-ms-exchange-organization-authas')?.trim().toLowerCase() === 'internal') {
    return { verdict: 'pass', evidence: 'sent inside the organisation' };
  }
  const value = header(mail, 'authentication-results');
  if (value === undefined) return { verdict: 'none', evidence: 'no Authentication-Results' };
  const r = parseAuthenticationResults(value);
  const evidence = (['dmarc', 'compauth', 'spf', 'dkim'] as const)
    .filter((k) => r[k] !== undefined)
    .map((k) => `${k}=${r[k]}`)
    .join(', ');
  const fromDomain = mail.from ? normalizeAddress(mail.from.address).split('@')[1] : undefined;
  if (r.dmarc === 'fail' || r.compauth === 'fail') return { verdict: 'fail', evidence };
  if ((r.dmarc !== undefined && PASSING.has(r.dmarc)) || r.compauth === 'pass') return { verdict: 'pass', evidence };
  // No DMARC verdict: a DKIM signature of the From domain itself still proves the sender.
  if (r.dkim === 'pass' && fromDomain !== undefined && r.dkimDomain === fromDomain) return { verdict: 'pass', evidence };
  if (r.spf === 'fail' && r.dkim !== 'pass') return { verdict: 'fail', evidence };
  return { verdict: 'none', evidence: evidence || 'no usable results' };
}
