import { createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** Minimal RS256 JSON Web Tokens for the fakes: enough to sign what Azure signs and check what the bot sends. */

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

export function jwk(key: SigningKey): Record<string, string> {
  const { n, e } = key.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { kty: 'RSA', use: 'sig', kid: key.kid, n, e, alg: 'RS256' };
}

export function signJwt(key: SigningKey, claims: Record<string, unknown>, headerKid: string = key.kid): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: headerKid, x5t: headerKid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key.privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

/** Returns the claims when the signature verifies with `publicKey`, else undefined. */
export function verifyJwt(token: string, publicKey: KeyObject): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const ok = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'));
  return ok ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
}

export { createPublicKey };
