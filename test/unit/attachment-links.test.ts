import { describe, expect, it } from 'vitest';
import { linkQuery, signLink, verifyLink } from '../../src/domain/attachment-links.js';
import { parseFileCommand } from '../../src/domain/file-command.js';

const secret = Buffer.from('unit-test-secret-unit-test-secret-0123');
const claims = { key: 't7', audience: 12, expiresAt: 2_000_000_000 };
const query = Object.fromEntries(new URLSearchParams(linkQuery(claims, secret)));

describe('signed attachment links', () => {
  it('accepts its own link until it expires, then refuses it as expired', () => {
    expect(verifyLink('t7', query, 1_999_999_999_000, secret)).toEqual({ ok: true, claims });
    expect(verifyLink('t7', query, 2_000_000_000_000, secret)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses another file, another person, a later expiry, another secret and malformed queries', () => {
    expect(verifyLink('t8', query, 0, secret)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyLink('e7', query, 0, secret)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyLink('t7', { ...query, aud: '13' }, 0, secret)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyLink('t7', { ...query, exp: '2000000001' }, 0, secret)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyLink('t7', query, 0, Buffer.from('another-secret-another-secret-000000'))).toMatchObject({ ok: false, reason: 'bad signature' });
    for (const bad of [{}, { ...query, sig: '' }, { ...query, sig: `${query.sig}A` }, { ...query, aud: '-1' }, { ...query, exp: '1e9' }]) {
      expect(verifyLink('t7', bad, 0, secret)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('signs the same claims the same way (links can be made on any replica sharing the secret)', () => {
    expect(signLink(claims, secret)).toBe(query.sig);
  });
});

describe('file commands', () => {
  it('reads `files INC-42`, `file INC-42 2`, `file 2` under a card, and nothing else', () => {
    expect(parseFileCommand('files INC-42')).toEqual({ ref: 42, index: undefined });
    expect(parseFileCommand('file inc-42 2')).toEqual({ ref: 42, index: 2 });
    expect(parseFileCommand('file 2')).toEqual({ ref: undefined, index: 2 });
    expect(parseFileCommand('files')).toEqual({ ref: undefined, index: undefined });
    expect(parseFileCommand('file a complaint about the printer')).toBeUndefined();
    expect(parseFileCommand('filesystem is full')).toBeUndefined();
  });
});
