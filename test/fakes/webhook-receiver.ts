import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { FlakyPeer } from './flaky.js';

/**
 * A webhook receiver on loopback that checks every request the way a customer's would: with the
 * public `standardwebhooks` package (https://github.com/standard-webhooks/standard-webhooks), not with
 * our signing code. It records what verified, counts what did not, and answers a scripted sequence
 * (429 with Retry-After, 500, a redirect, a hang until the sender gives up, …) before answering 200.
 * With `flaky` set it also fails a share of requests at random (429 with Retry-After, 503, no answer)
 * before accepting them: a refused or unanswered delivery is not recorded as verified.
 *
 * Events: 'request' when a request has arrived (before it is answered), 'abandoned' when the sender
 * closed a request that was never answered.
 */

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  /** The body as the package returned it after verifying (parsed JSON). */
  payload: unknown;
  /** The raw body, byte for byte. */
  body: string;
  headers: IncomingHttpHeaders;
  path: string;
}

export type ScriptedAnswer =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Never answered. */
  | { hang: true }
  /** A status, then a body that never ends (until the sender closes the connection). */
  | { status: number; endless: true };

export class FakeWebhookReceiver extends EventEmitter {
  /** Deliveries whose signature the package accepted, in order. */
  readonly verified: ReceivedWebhook[] = [];
  /** Requests whose signature the package refused (answered 401 unless scripted otherwise). */
  rejected = 0;
  /** Every request that reached the server, verified or not. */
  hits = 0;
  /** Requests the sender closed before they were answered. */
  abandoned = 0;
  /** Random faults (seeded), decided before the delivery is accepted. */
  flaky: FlakyPeer | undefined;
  /** When each request arrived, with its webhook-id (to check that a 429's Retry-After was waited out). */
  readonly arrivals: Array<{ id: string | undefined; at: number }> = [];
  private readonly verifiers: Webhook[];
  private readonly script: ScriptedAnswer[] = [];
  private readonly server: Server;
  private base = '';

  /** `secrets`: what this receiver knows (`whsec_…`); a delivery verifies if any one of them accepts it. */
  constructor(secrets: string[]) {
    super();
    this.verifiers = secrets.map((secret) => new Webhook(secret));
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(host = '127.0.0.1'): Promise<this> {
    this.server.listen(0, host);
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The receiver's URL for `path`. */
  url(path = '/hooks'): string {
    return `${this.base}${path}`;
  }

  /** The next requests get these answers, in order; after them, 200 (or 401 for a bad signature). */
  answer(...answers: ScriptedAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.hits++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const received = this.verify(body, req);
    this.arrivals.push({ id: received?.id, at: Date.now() });
    // A random fault refuses the delivery before the receiver acts on it, as a receiver that is
    // throttling, down or stuck would: only deliveries answered 2xx count as received.
    const random = received ? this.flaky?.next(received.id) : undefined;
    if (random) {
      this.emit('request', received);
      if (random.kind === 'hang') {
        res.on('close', () => {
          if (!res.writableEnded) this.abandoned++;
        });
        return;
      }
      res.writeHead(random.kind, { 'content-type': 'text/plain', ...(random.kind === 429 ? { 'retry-after': String(random.retryAfterSeconds) } : {}) });
      res.end(random.kind === 429 ? 'slow down' : 'unavailable');
      return;
    }
    if (received) this.verified.push(received);
    else this.rejected++;
    this.emit('request', received);

    const scripted = this.script.shift();
    if (scripted && 'hang' in scripted) {
      // Never answered: the sender must give up on its own, and its giving up must reach us.
      res.on('close', () => {
        if (!res.writableEnded) {
          this.abandoned++;
          this.emit('abandoned');
        }
      });
      return;
    }
    if (scripted && 'endless' in scripted) {
      res.writeHead(scripted.status, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const more = () => {
        // Write until the socket pushes back, then again when it drains, until the sender hangs up.
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', more);
      res.on('close', () => this.emit('abandoned'));
      more();
      return;
    }
    if (scripted) {
      res.writeHead(scripted.status, { 'content-type': 'text/plain', ...scripted.headers });
      res.end(scripted.body ?? '');
      return;
    }
    if (!received) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('signature did not verify');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"received":true}');
  }

  /** The delivery, if one of our secrets verifies it; undefined otherwise. */
  private verify(body: string, req: IncomingMessage): ReceivedWebhook | undefined {
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    for (const verifier of this.verifiers) {
      try {
        const payload: unknown = verifier.verify(body, headers);
        return {
          id: headers['webhook-id']!,
          timestamp: headers['webhook-timestamp']!,
          signature: headers['webhook-signature']!,
          payload,
          body,
          headers: req.headers,
          path: req.url ?? '/',
        };
      } catch {
        // Not this secret; try the next one.
      }
    }
    return undefined;
  }
}
