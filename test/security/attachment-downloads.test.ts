import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The download endpoint to someone without a link: ids are small numbers, so each must be useless
 * alone. Every probe gets the same 403 (nothing says whether a file exists), and nothing on disk
 * outside the desk's files can be named.
 */
describe('GET /api/attachments/:key without a valid link', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ATTACHMENT_LINK_SECRET: 'security-test-secret-security-test-secret' } });
  });
  afterAll(() => h.stop());

  it('answers 403 to guessed keys, forged signatures and path tricks, with no file name or content', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const probes = [
      '/api/attachments/t1',
      '/api/attachments/e1',
      `/api/attachments/t1?aud=1&exp=${exp}&sig=${'A'.repeat(43)}`,
      `/api/attachments/e1?aud=1&exp=${exp}&sig=${Buffer.alloc(32).toString('base64url')}`,
      `/api/attachments/..%2F..%2Fetc%2Fpasswd?aud=1&exp=${exp}&sig=${'A'.repeat(43)}`,
      `/api/attachments/t1?aud=1&aud=2&exp=${exp}&sig=x`,
    ];
    for (const probe of probes) {
      const response = await fetch(`${h.service.url}${probe}`);
      expect(response.status, probe).toBe(403);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const body = await response.text();
      expect(body).toMatch(/^\{"error":"link refused: (malformed|bad signature)"\}$/);
    }
  });
});
