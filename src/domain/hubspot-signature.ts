import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HubSpot webhook signature v3: base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
 * with the request's timestamp (ms) at most five minutes old. The URI is the full URL HubSpot called,
 * with a few percent-encoded characters decoded first, as HubSpot does before signing.
 */

export const SIGNATURE_WINDOW_MS = 5 * 60_000;

const DECODED: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };

export function signatureUri(url: string): string {
  return url.replace(/%3A|%2F|%3F|%40|%21|%24|%27|%28|%29|%2A|%2C|%3B/gi, (code) => DECODED[code.toUpperCase()]!);
}

export function signV3(secret: string, parts: { method: string; url: string; body: string; timestamp: string }): string {
  return createHmac('sha256', secret).update(`${parts.method.toUpperCase()}${signatureUri(parts.url)}${parts.body}${parts.timestamp}`, 'utf8').digest('base64');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifyV3(input: { secret: string; method: string; url: string; body: string; timestamp: string | undefined; signature: string | undefined; now: number }): SignatureCheck {
  if (!input.signature || !input.timestamp) return { ok: false, reason: 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp' };
  const at = Number(input.timestamp);
  if (!Number.isFinite(at)) return { ok: false, reason: 'the timestamp is not a number' };
  if (input.now - at > SIGNATURE_WINDOW_MS) return { ok: false, reason: 'the timestamp is more than 5 minutes old' };
  if (at - input.now > 60_000) return { ok: false, reason: 'the timestamp is in the future' };
  const expected = Buffer.from(signV3(input.secret, { method: input.method, url: input.url, body: input.body, timestamp: input.timestamp }), 'utf8');
  const given = Buffer.from(input.signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}
