import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signatures (https://api.slack.com/authentication/verifying-requests-from-slack):
 * every request Slack sends carries `X-Slack-Request-Timestamp` (Unix seconds) and `X-Slack-Signature`
 * = `v0=` + hex HMAC-SHA256, keyed with the app's signing secret, of `v0:<timestamp>:<raw body>`.
 * The body must be the bytes as received, before any form or JSON parsing.
 *
 * A request more than five minutes from our clock, either way, is refused: Slack's guide rejects old
 * ones to stop replays, and one from the future is just as replayable later.
 */

export const SIGNATURE_VERSION = 'v0';
/** Slack's guide: ignore requests whose timestamp is more than five minutes away from local time. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export type Headers = Record<string, string | string[] | undefined>;

/** A header by name, whatever its case; the first value when repeated. */
export function headerOf(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** The signature Slack would send for `rawBody` at `timestamp` (seconds): `v0=<hex>`. */
export function slackSignature(signingSecret: string, timestamp: string | number, rawBody: string): string {
  const mac = createHmac('sha256', signingSecret).update(`${SIGNATURE_VERSION}:${timestamp}:${rawBody}`, 'utf8').digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

/** Checks a request's Slack signature against the signing secret, at `now` (epoch ms). */
export function verifySlackSignature(signingSecret: string, rawBody: string, headers: Headers, now: number): SignatureCheck {
  const timestamp = headerOf(headers, 'x-slack-request-timestamp')?.trim();
  const signature = headerOf(headers, 'x-slack-signature')?.trim();
  if (!timestamp) return { ok: false, reason: 'missing header X-Slack-Request-Timestamp' };
  if (!signature) return { ok: false, reason: 'missing header X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a Unix time in seconds' };
  const skew = now - Number(timestamp) * 1000;
  if (skew > SIGNATURE_WINDOW_MS) return { ok: false, reason: 'stale request: its timestamp is more than 5 minutes old' };
  if (skew < -SIGNATURE_WINDOW_MS) return { ok: false, reason: 'stale request: its timestamp is more than 5 minutes in the future' };
  if (!signature.startsWith(`${SIGNATURE_VERSION}=`)) return { ok: false, reason: 'bad signature: not a v0 signature' };
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual throws on buffers of different lengths; a wrong length is simply a wrong signature.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}
