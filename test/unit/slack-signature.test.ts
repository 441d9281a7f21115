import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from '../../src/integrations/slack/signature.js';

// Slack's worked example (https://api.slack.com/authentication/verifying-requests-from-slack): the
// documented secret, timestamp and body, and the signature Slack's guide says they give.
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const AT = Number(TIMESTAMP) * 1000;
const expected = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const headers = (signature: string, timestamp = TIMESTAMP) => ({ 'X-Slack-Signature': signature, 'X-Slack-Request-Timestamp': timestamp });

describe('Slack request signatures (v0)', () => {
  it('signs v0:timestamp:body with HMAC-SHA256 in hex, and accepts what Slack signed', () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(expected);
    expect(verifySlackSignature(SECRET, BODY, headers(expected), AT)).toEqual({ ok: true });
    // Header names are case-insensitive; Node hands them over in lower case.
    expect(verifySlackSignature(SECRET, BODY, { 'x-slack-signature': expected, 'x-slack-request-timestamp': TIMESTAMP }, AT + 299_000)).toEqual({ ok: true });
  });

  it('refuses a forged signature, a changed body, another secret, and a signature of another length', () => {
    const forged = expected.slice(0, -1) + (expected.endsWith('0') ? '1' : '0');
    expect(verifySlackSignature(SECRET, BODY, headers(forged), AT)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifySlackSignature(SECRET, BODY.replace('text=', 'text=take%2042'), headers(expected), AT)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifySlackSignature('another-secret', BODY, headers(expected), AT)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifySlackSignature(SECRET, BODY, headers('v0=abc'), AT)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifySlackSignature(SECRET, BODY, headers(expected.replace('v0=', 'v1=')), AT)).toMatchObject({ ok: false, reason: expect.stringContaining('bad signature') });
  });

  it('refuses a replayed request older than five minutes, and one from more than five minutes ahead', () => {
    expect(verifySlackSignature(SECRET, BODY, headers(expected), AT + 5 * 60_000 + 1_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^stale request.*old/) });
    expect(verifySlackSignature(SECRET, BODY, headers(expected), AT - 5 * 60_000 - 1_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^stale request.*future/) });
    // Even a correct signature over a new timestamp is checked against the body it covers.
    const later = String(Number(TIMESTAMP) + 600);
    expect(verifySlackSignature(SECRET, BODY, headers(expected, later), AT + 600_000)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('names a missing or unreadable header', () => {
    expect(verifySlackSignature(SECRET, BODY, { 'X-Slack-Request-Timestamp': TIMESTAMP }, AT)).toEqual({ ok: false, reason: 'missing header X-Slack-Signature' });
    expect(verifySlackSignature(SECRET, BODY, { 'X-Slack-Signature': expected }, AT)).toEqual({ ok: false, reason: 'missing header X-Slack-Request-Timestamp' });
    expect(verifySlackSignature(SECRET, BODY, headers(expected, 'yesterday'), AT)).toMatchObject({ ok: false, reason: expect.stringContaining('not a Unix time') });
  });
});
