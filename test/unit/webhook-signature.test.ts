import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookSecretError, WebhookSigner } from '../../src/integrations/webhook/signature.js';

// Our signatures, checked by the public Standard Webhooks package (what customers verify with), not
// by our own code.

const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ id: 'evt_1', type: 'ticket.created', ticket: { reference: 'INC-42', subject: 'Café ☕ broken' } });

describe('signing', () => {
  it('is verified by the standardwebhooks package, which returns the payload', () => {
    const secret = newSecret();
    const headers = new WebhookSigner([secret]).headers('evt_1', now(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('does not verify when the body, the id or the timestamp was changed on the way', () => {
    const secret = newSecret();
    const sentAt = now();
    const headers = new WebhookSigner([secret]).headers('evt_1', sentAt, body);
    const receiver = new Webhook(secret);
    expect(() => receiver.verify(body.replace('INC-42', 'INC-43'), { ...headers })).toThrow('No matching signature found');
    expect(() => receiver.verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow('No matching signature found');
    expect(() => receiver.verify(body, { ...headers, 'webhook-timestamp': String(sentAt - 1) })).toThrow('No matching signature found');
  });

  it('does not verify with another secret', () => {
    const headers = new WebhookSigner([newSecret()]).headers('evt_1', now(), body);
    expect(() => new Webhook(newSecret()).verify(body, { ...headers })).toThrow('No matching signature found');
  });

  it('while rotating, signs with both secrets so a receiver that knows only the old OR only the new one accepts', () => {
    const [oldSecret, newOne, unrelated] = [newSecret(), newSecret(), newSecret()];
    const headers = new WebhookSigner([newOne, oldSecret]).headers('evt_1', now(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(newOne).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(unrelated).verify(body, { ...headers })).toThrow('No matching signature found');
  });

  it('accepts the smallest and largest secrets the spec allows (24 and 64 bytes)', () => {
    for (const secret of [newSecret(24), newSecret(64)]) {
      const headers = new WebhookSigner([secret]).headers('evt_1', now(), body);
      expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    }
  });

  it('refuses an id that could make one signed content pass for another', () => {
    const signer = new WebhookSigner([newSecret()]);
    expect(() => signer.sign('evt.1', now(), body)).toThrow(/webhook-id/);
    expect(() => signer.sign('evt 1', now(), body)).toThrow(/webhook-id/);
    expect(() => signer.sign('', now(), body)).toThrow(/webhook-id/);
  });
});

describe('secrets are checked when the webhook is set up, and never echoed', () => {
  const bare = randomBytes(32).toString('base64');
  it.each([
    ['without the whsec_ prefix', [bare], /secret of webhook 'crm' does not start with "whsec_"/],
    ['not base64', ['whsec_not*base64!'], /secret of webhook 'crm' is not base64 after "whsec_"/],
    ['too short', [newSecret(16)], /is 16 bytes long; Standard Webhooks secrets are 24 to 64 random bytes/],
    ['too long', [newSecret(65)], /is 65 bytes long/],
    ['empty', [''], /secret of webhook 'crm' is empty/],
    ['with a line break after it', [`${newSecret()}\n`], /has spaces or line breaks around it/],
  ])('a secret %s is refused', (_what, secrets, message) => {
    const error = (() => {
      try {
        new WebhookSigner(secrets, "webhook 'crm'");
      } catch (e) {
        return e as Error;
      }
      throw new Error('the secret was accepted');
    })();
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect(error.message).toMatch(message);
    for (const secret of secrets) if (secret.trim().length > 8) expect(error.message).not.toContain(secret.trim().replace(/^whsec_/, ''));
  });

  it('names which of two secrets is wrong', () => {
    expect(() => new WebhookSigner([newSecret(), 'whsec_short'], "webhook 'crm'")).toThrow(/^secret 2 of 2 of webhook 'crm'/);
  });

  it('refuses no secret at all, and the same secret twice', () => {
    expect(() => new WebhookSigner([], "webhook 'crm'")).toThrow("webhook 'crm' has no secret");
    const secret = newSecret();
    expect(() => new WebhookSigner([secret, secret], "webhook 'crm'")).toThrow('secret 1 of 2 of webhook \'crm\' and secret 2 of 2 of webhook \'crm\' are the same secret');
  });
});
