import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/domain/commands.js';
import { signatureUri, verifyV3 } from '../../src/domain/hubspot-signature.js';
import { tierFromCrm } from '../../src/domain/sla.js';
import { TEST_SLA_POLICY } from '../support/harness.js';

describe('HubSpot signature v3', () => {
  const secret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
  const url = 'https://desk.contoso.example/api/webhooks/hubspot?portal=62515';
  const body = '[{"objectId":1,"subscriptionType":"company.propertyChange"}]';
  const now = 1_795_000_000_000;
  // Written out the way HubSpot's docs describe it, independently of our helper.
  const sign = (timestamp: string, u = url) => createHmac('sha256', secret).update(`POST${u}${body}${timestamp}`).digest('base64');

  it('accepts a correct signature within five minutes', () => {
    expect(verifyV3({ secret, method: 'POST', url, body, timestamp: String(now - 60_000), signature: sign(String(now - 60_000)), now })).toEqual({ ok: true });
  });

  it('refuses a wrong, missing, tampered or old signature', () => {
    const ts = String(now);
    expect(verifyV3({ secret: 'other', method: 'POST', url, body, timestamp: ts, signature: sign(ts), now }).ok).toBe(false);
    expect(verifyV3({ secret, method: 'POST', url, body: `${body} `, timestamp: ts, signature: sign(ts), now }).ok).toBe(false);
    expect(verifyV3({ secret, method: 'POST', url, body, timestamp: undefined, signature: sign(ts), now })).toEqual({ ok: false, reason: 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp' });
    const old = String(now - 5 * 60_000 - 1);
    expect(verifyV3({ secret, method: 'POST', url, body, timestamp: old, signature: sign(old), now })).toEqual({ ok: false, reason: 'the timestamp is more than 5 minutes old' });
  });

  it('decodes the characters HubSpot decodes before signing', () => {
    expect(signatureUri('https://x.example/hook?a=b%3Ac%2Fd%40e%20f')).toBe('https://x.example/hook?a=b:c/d@e%20f');
    const encoded = 'https://x.example/hook?a=b%3Ac';
    expect(verifyV3({ secret, method: 'POST', url: encoded, body, timestamp: String(now), signature: sign(String(now), 'https://x.example/hook?a=b:c'), now }).ok).toBe(true);
  });
});

describe('CRM tier values', () => {
  it('map through crmTiers, ignoring case and spaces, or name a tier directly; anything else is the default', () => {
    expect(tierFromCrm(TEST_SLA_POLICY, ' Platinum ')).toBe('vip');
    expect(tierFromCrm(TEST_SLA_POLICY, 'GOLD')).toBe('premium');
    expect(tierFromCrm(TEST_SLA_POLICY, 'vip')).toBe('vip');
    expect(tierFromCrm(TEST_SLA_POLICY, 'bronze')).toBeUndefined();
    expect(tierFromCrm(TEST_SLA_POLICY, null)).toBeUndefined();
  });
});

describe('tier and whois commands', () => {
  it('parse', () => {
    expect(parseCommand('tier INC-1042 VIP renewal at risk')).toEqual({ ok: true, command: { kind: 'tier', ref: 1042, tier: 'vip', reason: 'renewal at risk' } });
    expect(parseCommand('whois <Dana@Fabrikam.com>')).toEqual({ ok: true, command: { kind: 'whois', email: 'dana@fabrikam.com' } });
    expect(parseCommand('whois dana')).toMatchObject({ ok: false });
  });
});
