import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring download links for a ticket's files: `/api/attachments/<key>?aud=<person>&exp=<s>&sig=<mac>`.
 * The MAC (HMAC-SHA256, RFC 2104: https://www.rfc-editor.org/rfc/rfc2104) covers the attachment's key,
 * the person the link was made for (its audience) and the expiry, so none of them can be changed, and an
 * attachment's key alone (`t7`, guessable) opens nothing. Pure: the endpoint also checks, when the link
 * is used, that its audience may still see the ticket.
 */

export interface LinkClaims {
  key: string;
  /** The person (people.id) the link was made for. */
  audience: number;
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

/** Domain separation: a MAC made here means nothing to any other use of the same secret. */
const PURPOSE = 'teams-service-desk/attachment-download/v1';

export function signLink(claims: LinkClaims, secret: Buffer): string {
  return mac(claims, secret).toString('base64url');
}

/** The query string of a link (without `?`). */
export function linkQuery(claims: LinkClaims, secret: Buffer): string {
  return new URLSearchParams({ aud: String(claims.audience), exp: String(claims.expiresAt), sig: signLink(claims, secret) }).toString();
}

export type LinkVerdict = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'bad signature' | 'expired' };

/** Checks a link's query against its key; the signature is compared in constant time. */
export function verifyLink(key: string, query: { aud?: string | null; exp?: string | null; sig?: string | null }, nowMs: number, secret: Buffer): LinkVerdict {
  const { aud, exp, sig } = query;
  if (!aud || !exp || !sig || !/^[1-9]\d{0,15}$/.test(aud) || !/^[1-9]\d{0,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: 'malformed' };
  const claims: LinkClaims = { key, audience: Number(aud), expiresAt: Number(exp) };
  const expected = mac(claims, secret);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  // Checked after the signature, so a forged link learns nothing about expiry.
  if (nowMs >= claims.expiresAt * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function mac(claims: LinkClaims, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}\n${claims.key}\n${claims.audience}\n${claims.expiresAt}`).digest();
}
