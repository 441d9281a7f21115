import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, spec v1.0.0,
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 *
 * - a secret is random bytes, at least 24 and at most 64 (192 to 512 bits), written `whsec_<base64>`;
 * - what is signed is `${webhook-id}.${webhook-timestamp}.${body}`, the body exactly as sent;
 * - the signature is HMAC-SHA256, base64, written `v1,<base64>`;
 * - `webhook-signature` lists signatures separated by spaces, one per secret, so a secret can be
 *   rotated without downtime: while the old and the new secret are both configured, a receiver that
 *   knows either accepts the delivery.
 */

export const SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
/** Standard base64 (RFC 4648 §4), padded: what `whsec_` secrets are written in. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * The spec asks that the id and timestamp hold no `.`, which would let one signed content pass for
 * another; header values also must not hold spaces or control characters.
 */
const WEBHOOK_ID = /^[A-Za-z0-9_:\-]{1,256}$/;

/** A secret that cannot be used: the message names which one and what is wrong, never its value. */
export class WebhookSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSecretError';
  }
}

/**
 * Reads a `whsec_<base64>` secret into its key bytes. `which` names it in errors ("secret 2 of 2 of
 * webhook 'crm'"); the secret itself never appears in a message.
 */
export function parseWebhookSecret(secret: string, which = 'the webhook secret'): Buffer {
  if (typeof secret !== 'string' || secret.trim() === '') throw new WebhookSecretError(`${which} is empty`);
  if (secret !== secret.trim()) throw new WebhookSecretError(`${which} has spaces or line breaks around it`);
  if (!secret.startsWith(SECRET_PREFIX)) throw new WebhookSecretError(`${which} does not start with "${SECRET_PREFIX}" (Standard Webhooks secrets are ${SECRET_PREFIX} followed by base64)`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded === '') throw new WebhookSecretError(`${which} is not base64 after "${SECRET_PREFIX}"`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new WebhookSecretError(`${which} is ${key.length} bytes long; Standard Webhooks secrets are ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes`);
  }
  return key;
}

/** The three headers of a signed delivery. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Signs with every configured secret; secrets are read (and checked) once, at construction. */
export class WebhookSigner {
  private readonly keys: readonly Buffer[];

  /**
   * `secrets`: one, or two while rotating (order does not matter to receivers). `owner` names the
   * webhook in errors ("webhook 'crm'").
   */
  constructor(secrets: readonly string[], owner = 'the webhook') {
    if (!Array.isArray(secrets) || secrets.length === 0) throw new WebhookSecretError(`${owner} has no secret: give it at least one ${SECRET_PREFIX}… secret`);
    const which = (i: number) => (secrets.length === 1 ? `the secret of ${owner}` : `secret ${i + 1} of ${secrets.length} of ${owner}`);
    this.keys = secrets.map((secret, i) => parseWebhookSecret(secret, which(i)));
    for (let i = 0; i < this.keys.length; i++) {
      for (let j = i + 1; j < this.keys.length; j++) {
        // Same key twice is harmless to receivers but almost surely a copy-paste slip mid-rotation.
        if (this.keys[i]!.equals(this.keys[j]!)) throw new WebhookSecretError(`${which(i)} and ${which(j)} are the same secret`);
      }
    }
  }

  /** The `webhook-signature` value: `v1,<base64>` per secret, separated by spaces. */
  sign(id: string, timestampSeconds: number, body: string): string {
    if (!WEBHOOK_ID.test(id)) throw new Error('a webhook-id is 1 to 256 letters, digits, "_", "-" or ":"');
    if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new Error('a webhook-timestamp is whole seconds since 1970');
    const content = `${id}.${timestampSeconds}.${body}`;
    return this.keys.map((key) => `v1,${createHmac('sha256', key).update(content, 'utf8').digest('base64')}`).join(' ');
  }

  /** The three headers for sending `body` as message `id` at `timestampSeconds` (Unix seconds). */
  headers(id: string, timestampSeconds: number, body: string): SignatureHeaders {
    return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': this.sign(id, timestampSeconds, body) };
  }
}
