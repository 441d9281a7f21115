import { describe, expect, it } from 'vitest';
import { authenticate, parseAuthenticationResults } from '../../src/domain/mail/authentication.js';
import { headerMap } from '../../src/domain/mail/message.js';

// Header values in the shapes Exchange Online writes, as documented at
// https://learn.microsoft.com/en-us/defender-office-365/message-headers-eop-mdo#authentication-results-message-header
const mail = (from: string, headers: Array<[string, string]>) => ({ from: { address: from, name: '' }, headers: headerMap(headers.map(([name, value]) => ({ name, value }))) });

describe('sender authentication from the receiving server’s verdict', () => {
  it('reads each method, ignoring comments that contain separators', () => {
    const r = parseAuthenticationResults('spf=pass (sender IP is 192.168.0.1; helo=x) smtp.mailfrom=contoso.com; dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass reason=100');
    expect(r).toEqual({ spf: 'pass', dkim: 'pass', dmarc: 'pass', compauth: 'pass', headerFrom: 'contoso.com', dkimDomain: 'contoso.com' });
  });

  it('passes DMARC, composite authentication, best-guess DMARC and a DKIM signature of the From domain', () => {
    expect(authenticate(mail('a@contoso.com', [['Authentication-Results', 'spf=pass smtp.mailfrom=contoso.com; dkim=none; dmarc=pass action=none header.from=contoso.com']])).verdict).toBe('pass');
    expect(authenticate(mail('a@contoso.com', [['Authentication-Results', 'spf=none; dkim=none; dmarc=none; compauth=pass reason=109']])).verdict).toBe('pass');
    expect(authenticate(mail('a@contoso.com', [['Authentication-Results', 'spf=pass smtp.mailfrom=contoso.com; dkim=none; dmarc=bestguesspass action=none header.from=contoso.com']])).verdict).toBe('pass');
    expect(authenticate(mail('a@contoso.com', [['Authentication-Results', 'spf=softfail; dkim=pass header.d=contoso.com']])).verdict).toBe('pass');
  });

  it('fails a forged From, and proves nothing with someone else’s DKIM signature', () => {
    const forged = authenticate(mail('ceo@contoso.com', [['Authentication-Results', 'spf=fail (sender IP is 198.51.100.6) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=contoso.com;compauth=fail reason=000']]));
    expect(forged).toEqual({ verdict: 'fail', evidence: 'dmarc=fail, compauth=fail, spf=fail, dkim=none' });
    expect(authenticate(mail('ceo@contoso.com', [['Authentication-Results', 'spf=none; dkim=pass header.d=mailer.example']])).verdict).toBe('none');
    expect(authenticate(mail('ceo@contoso.com', [['Authentication-Results', 'spf=fail smtp.mailfrom=contoso.com; dkim=none']])).verdict).toBe('fail');
  });

  it('counts only the topmost header: one the sender wrote further down proves nothing', () => {
    const m = mail('ceo@contoso.com', [
      ['Authentication-Results', 'spf=fail smtp.mailfrom=contoso.com; dkim=none; dmarc=fail header.from=contoso.com'],
      ['Authentication-Results', 'mx.contoso.com; spf=pass; dkim=pass header.d=contoso.com; dmarc=pass'],
    ]);
    expect(authenticate(m).verdict).toBe('fail');
  });

  it('trusts mail that never left the organisation, and says when there is no verdict at all', () => {
    expect(authenticate(mail('hr@contoso.com', [['X-MS-Exchange-Organization-AuthAs', 'Internal']]))).toEqual({ verdict: 'pass', evidence: 'sent inside the organisation' });
    expect(authenticate(mail('hr@contoso.com', [['X-MS-Exchange-Organization-AuthAs', 'Anonymous']])).verdict).toBe('none');
    expect(authenticate(mail('a@fabrikam.com', []))).toEqual({ verdict: 'none', evidence: 'no Authentication-Results' });
  });

  it('reads a huge header in linear time', () => {
    const started = performance.now();
    const verdict = authenticate(mail('a@b.example', [['Authentication-Results', `${'('.repeat(200_000)}spf=pass ${';'.repeat(200_000)} dmarc=pass`]]));
    expect(performance.now() - started).toBeLessThan(500);
    expect(verdict.verdict).toBe('none'); // past the 8 KB read, so no verdict from it
  });
});
