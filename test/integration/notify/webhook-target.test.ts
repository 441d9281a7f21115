import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryContext } from '../../../src/integrations/notify/target.js';
import { TargetError } from '../../../src/integrations/notify/target.js';
import type { Resolver } from '../../../src/integrations/outbound/address-guard.js';
import { WebhookConfigError, WebhookTarget, type WebhookTargetOptions } from '../../../src/integrations/webhook/target.js';
import { FakeWebhookReceiver } from '../../fakes/webhook-receiver.js';
import { deskEvent } from '../../support/desk-events.js';

// A webhook target against a receiver on loopback that verifies with the public standardwebhooks
// package: what arrives, how each answer is classified for the delivery worker, and the SSRF guard
// (nothing reaches a refused address, redirects are not followed).

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const context = (signal: AbortSignal = new AbortController().signal): DeliveryContext => ({ previous: undefined, matched: true, signal });

const started: Array<{ stop(): Promise<void> }> = [];
const targets: WebhookTarget[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) target.close();
  await Promise.all(started.splice(0).map((r) => r.stop()));
});

async function receiver(secrets: string[], host?: string): Promise<FakeWebhookReceiver> {
  const fake = await new FakeWebhookReceiver(secrets).start(host);
  started.push(fake);
  return fake;
}

function target(options: Partial<WebhookTargetOptions> & Pick<WebhookTargetOptions, 'url' | 'secrets'>): WebhookTarget {
  const made = new WebhookTarget({ name: 'crm', ...options });
  targets.push(made);
  return made;
}

/** The TargetError a delivery failed with (the test fails if it succeeded or threw something else). */
async function failure(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

/** A resolver that knows one name. */
const resolving =
  (name: string, ...addresses: string[]): Resolver =>
  async (hostname) => {
    if (hostname !== name) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('delivering', () => {
  it('POSTs exactly the event JSON, signed so that the standardwebhooks package verifies it', async () => {
    const secret = newSecret();
    const hooks = await receiver([secret]);
    const event = deskEvent({ type: 'ticket.status_changed', data: { from: 'open', to: 'resolved' } });
    const before = Math.floor(Date.now() / 1000);

    const result = await target({ url: hooks.url('/desk/events?token=abc'), secrets: [secret], allowLoopback: true }).deliver(event, context());

    expect(result).toEqual({ summary: '200 OK' });
    expect(hooks.rejected).toBe(0);
    expect(hooks.verified).toHaveLength(1);
    const [received] = hooks.verified;
    expect(received!.body).toBe(JSON.stringify(event));
    expect(received!.payload).toEqual(event);
    expect(received!.id).toBe(event.id);
    expect(Number(received!.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(received!.timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.path).toBe('/desk/events?token=abc');
  });

  it('keeps the same webhook-id when an event is sent again, so receivers can drop the duplicate', async () => {
    const secret = newSecret();
    const hooks = await receiver([secret]);
    const event = deskEvent();
    const webhook = target({ url: hooks.url(), secrets: [secret], allowLoopback: true });
    await webhook.deliver(event, context());
    await webhook.deliver(event, context());
    expect(hooks.verified.map((r) => r.id)).toEqual([event.id, event.id]);
  });

  it('while rotating secrets, a receiver that knows only the old one or only the new one accepts', async () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const knowsOld = await receiver([oldSecret]);
    const knowsNew = await receiver([newOne]);
    await target({ url: knowsOld.url(), secrets: [newOne, oldSecret], allowLoopback: true }).deliver(deskEvent(), context());
    await target({ url: knowsNew.url(), secrets: [newOne, oldSecret], allowLoopback: true }).deliver(deskEvent(), context());
    expect([knowsOld.verified.length, knowsNew.verified.length]).toEqual([1, 1]);
  });

  it('a receiver that does not know the secret refuses it, and that is permanent', async () => {
    const hooks = await receiver([newSecret()]);
    const error = await failure(target({ url: hooks.url(), secrets: [newSecret()], allowLoopback: true }).deliver(deskEvent(), context()));
    expect(hooks.rejected).toBe(1);
    expect(error.kind).toBe('permanent');
    expect(error.details.status).toBe(401);
    expect(error.message).toBe('the receiver answered 401 Unauthorized: signature did not verify');
  });

  it('describes itself by origin and path, never the query string', async () => {
    const webhook = target({ url: 'https://hooks.example.com/desk?token=s3cr3t#frag', secrets: [newSecret()] });
    expect(webhook.describe()).toBe('https://hooks.example.com/desk');
    expect(webhook.laneOf(deskEvent())).toBe('https://hooks.example.com');
    expect(webhook.kind).toBe('webhook');
    expect(webhook.followsTickets).toBe(false);
  });
});

describe('the SSRF guard', () => {
  it('refuses a name that resolves to 127.0.0.1 unless loopback is allowed, and then delivers to it', async () => {
    const secret = newSecret();
    const hooks = await receiver([secret]);
    const url = `http://hooks.example.test:${hooks.port}/hooks`;
    const resolver = resolving('hooks.example.test', '127.0.0.1');

    const error = await failure(target({ url, secrets: [secret], resolver }).deliver(deskEvent(), context()));
    expect(error.kind).toBe('permanent');
    expect(error.message).toBe('hooks.example.test resolves to 127.0.0.1, which is a loopback address; webhooks may not reach it unless loopback is allowed for it');
    expect(hooks.hits).toBe(0);

    await expect(target({ url, secrets: [secret], resolver, allowLoopback: true }).deliver(deskEvent(), context())).resolves.toEqual({ summary: '200 OK' });
    expect(hooks.verified).toHaveLength(1);
    expect(hooks.verified[0]!.headers.host).toBe(`hooks.example.test:${hooks.port}`);
  });

  it('refuses a name with one public and one loopback address: every address is checked', async () => {
    const secret = newSecret();
    const hooks = await receiver([secret]);
    const resolver = resolving('hooks.example.test', '93.184.216.34', '127.0.0.1');
    const error = await failure(target({ url: `http://hooks.example.test:${hooks.port}/`, secrets: [secret], resolver }).deliver(deskEvent(), context()));
    expect(error.message).toMatch(/^hooks.example.test resolves to 127.0.0.1, which is a loopback address/);
    expect(hooks.hits).toBe(0);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address (cloud metadata); webhooks may not reach it'],
    ['http://10.20.30.40:8080/hooks', '10.20.30.40 is a private address (RFC 1918); webhooks may not reach it unless private addresses are allowed for it'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254 is the AWS instance metadata address; webhooks may not reach it'],
  ])('refuses %s before any connection, even with loopback allowed', async (url, reason) => {
    const error = await failure(target({ url, secrets: [newSecret()], allowLoopback: true }).deliver(deskEvent(), context()));
    expect(error.kind).toBe('permanent');
    expect(error.message).toBe(reason);
  });

  it('refuses a name that resolves to the metadata address, even with private addresses allowed', async () => {
    const resolver = resolving('metadata.example.test', '169.254.169.254');
    const error = await failure(target({ url: 'http://metadata.example.test/', secrets: [newSecret()], resolver, allowPrivate: true, allowLoopback: true }).deliver(deskEvent(), context()));
    expect(error.message).toBe('metadata.example.test resolves to 169.254.169.254, which is a link-local address (cloud metadata); webhooks may not reach it');
  });

  it('refuses [::1] and ::ffff:127.0.0.1 while a receiver listens there; nothing reaches it', async () => {
    const secret = newSecret();
    const v6 = await receiver([secret], '::1');
    const v4 = await receiver([secret]);
    const refusedV6 = await failure(target({ url: `http://[::1]:${v6.port}/hooks`, secrets: [secret] }).deliver(deskEvent(), context()));
    expect(refusedV6.message).toBe('::1 is a loopback address; webhooks may not reach it unless loopback is allowed for it');
    const mapped = await failure(target({ url: `http://[::ffff:127.0.0.1]:${v4.port}/hooks`, secrets: [secret] }).deliver(deskEvent(), context()));
    expect(mapped.message).toBe('::ffff:7f00:1 is an IPv4-mapped form of 127.0.0.1, a loopback address; webhooks may not reach it unless loopback is allowed for it');
    expect([v6.hits, v4.hits]).toEqual([0, 0]);

    // The same URL with loopback allowed does reach it: the refusal was the guard's, not a dead port.
    await target({ url: `http://[::1]:${v6.port}/hooks`, secrets: [secret], allowLoopback: true }).deliver(deskEvent(), context());
    expect(v6.verified).toHaveLength(1);
  });

  it('does not follow a redirect: the redirect target gets nothing, the error names only its origin', async () => {
    const secret = newSecret();
    const elsewhere = await receiver([secret]);
    const hooks = (await receiver([secret])).answer({ status: 302, headers: { location: elsewhere.url('/internal/admin?key=1') } });

    const error = await failure(target({ url: hooks.url(), secrets: [secret], allowLoopback: true }).deliver(deskEvent(), context()));
    expect(error.kind).toBe('permanent');
    expect(error.details.status).toBe(302);
    expect(error.message).toBe(`the receiver answered 302 Found; redirects are not followed (Location: ${new URL(elsewhere.url()).origin}): update the webhook's URL`);
    expect(hooks.hits).toBe(1);
    expect(elsewhere.hits).toBe(0);
  });
});

describe('what each answer means to the delivery worker', () => {
  async function answered(...answers: Parameters<FakeWebhookReceiver['answer']>): Promise<TargetError> {
    const secret = newSecret();
    const hooks = (await receiver([secret])).answer(...answers);
    return failure(target({ url: hooks.url(), secrets: [secret], allowLoopback: true }).deliver(deskEvent(), context()));
  }

  it('429 is throttled, with the wait Retry-After asks for', async () => {
    const error = await answered({ status: 429, headers: { 'retry-after': '7' } });
    expect(error.kind).toBe('throttled');
    expect(error.details).toEqual({ status: 429, retryAfterMs: 7_000 });
    expect(error.message).toBe('the receiver asked us to slow down (429 Too Many Requests, retry after 7 s)');
  });

  it('429 without Retry-After is throttled and leaves the wait to the worker', async () => {
    const error = await answered({ status: 429 });
    expect(error.kind).toBe('throttled');
    expect(error.details).toEqual({ status: 429 });
  });

  it('500 is transient, with what the receiver said', async () => {
    const error = await answered({ status: 500, body: 'database\nunavailable' });
    expect(error.kind).toBe('transient');
    expect(error.details.status).toBe(500);
    expect(error.message).toBe('the receiver answered 500 Internal Server Error: database unavailable');
  });

  it('503 with Retry-After is transient and passes the wait on; 408 is transient', async () => {
    expect(await answered({ status: 503, headers: { 'retry-after': '30' } })).toMatchObject({ kind: 'transient', details: { status: 503, retryAfterMs: 30_000 } });
    expect(await answered({ status: 408 })).toMatchObject({ kind: 'transient', details: { status: 408 } });
  });

  it('400 is permanent: sending the same thing again would fail the same way', async () => {
    const error = await answered({ status: 400, body: '{"error":"unknown event type"}' });
    expect(error.kind).toBe('permanent');
    expect(error.details.status).toBe(400);
    expect(error.message).toBe('the receiver answered 400 Bad Request: {"error":"unknown event type"}');
  });

  it('410 is permanent: the endpoint is gone', async () => {
    const error = await answered({ status: 410 });
    expect(error.kind).toBe('permanent');
    expect(error.message).toBe('the receiver answered 410 Gone: the endpoint is gone and wants no more events');
  });

  it('a 2xx whose body never ends is still a success: no more than 64 KB of it is read', async () => {
    const secret = newSecret();
    const hooks = (await receiver([secret])).answer({ status: 200, endless: true });
    const closed = once(hooks, 'abandoned');
    const result = await target({ url: hooks.url(), secrets: [secret], allowLoopback: true }).deliver(deskEvent(), context());
    expect(result).toEqual({ summary: '200 OK' });
    await closed;
  });

  it('an error answer is judged on its first 64 KB, quoted briefly', async () => {
    const error = await answered({ status: 400, body: 'x'.repeat(5 * 1024 * 1024) });
    expect(error.kind).toBe('permanent');
    expect(error.message.length).toBeLessThan(300);
  });

  it('a receiver that hangs is cut off by the attempt signal: transient, and the request is really closed', async () => {
    const secret = newSecret();
    const hooks = (await receiver([secret])).answer({ hang: true });
    const attempt = new AbortController();
    const delivery = failure(target({ url: hooks.url(), secrets: [secret], allowLoopback: true }).deliver(deskEvent(), context(attempt.signal)));
    await once(hooks, 'request');
    const abandoned = once(hooks, 'abandoned');
    attempt.abort(new Error('the attempt timed out'));

    const error = await delivery;
    expect(error.kind).toBe('transient');
    expect(error.message).toBe(`the delivery to ${new URL(hooks.url()).host} was stopped before it answered (the attempt timed out)`);
    await abandoned;
    expect(hooks.abandoned).toBe(1);
  });

  it('a receiver that hangs past the target time-out is transient', async () => {
    const secret = newSecret();
    const hooks = (await receiver([secret])).answer({ hang: true });
    const error = await failure(target({ url: hooks.url(), secrets: [secret], allowLoopback: true, timeoutMs: 300 }).deliver(deskEvent(), context()));
    expect(error.kind).toBe('transient');
    expect(error.message).toBe(`${new URL(hooks.url()).host} did not answer within 0.3 s`);
  });

  it('a refused connection is transient', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await failure(target({ url: `http://127.0.0.1:${port}/hooks`, secrets: [newSecret()], allowLoopback: true }).deliver(deskEvent(), context()));
    expect(error.kind).toBe('transient');
    expect(error.message).toBe(`could not reach 127.0.0.1:${port}: connection refused`);
  });
});

describe('configuration mistakes are found at setup, in words that leak nothing', () => {
  it.each([
    [{ url: 'ftp://hooks.example.com/x' }, "the URL of webhook 'crm' must start with https:// or http:// (it is ftp:)"],
    [{ url: 'https://user:pa55word@hooks.example.com/x' }, "the URL of webhook 'crm' must not hold a user name or password: receivers check the webhook-signature instead"],
    [{ url: 'hooks.example.com/x?token=s3cr3t' }, "the URL of webhook 'crm' is not an absolute URL"],
    [{ secrets: ['whsec_dG9vU2hvcnQ='] }, /the secret of webhook 'crm' is 8 bytes long/],
    [{ secrets: [] }, "webhook 'crm' has no secret"],
    [{ timeoutMs: 0 }, "the time-out of webhook 'crm' must be a positive number of milliseconds"],
  ])('%o is refused', (override, message) => {
    const make = () => new WebhookTarget({ name: 'crm', url: 'https://hooks.example.com/x', secrets: [newSecret()], ...override });
    expect(make).toThrow(message);
    try {
      make();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/pa55word|s3cr3t|dG9vU2hvcnQ/);
      expect((error as Error).name).toMatch(/WebhookConfigError|WebhookSecretError/);
    }
  });

  it('is a WebhookConfigError for a bad URL', () => {
    expect(() => new WebhookTarget({ name: 'crm', url: 'mailto:x@example.com', secrets: [newSecret()] })).toThrow(WebhookConfigError);
  });
});
