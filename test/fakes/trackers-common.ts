import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The small HTTP server both tracker fakes stand on: JSON in, JSON out, every request kept. */
export abstract class JsonFake {
  private server: Server | undefined;
  baseUrl = '';
  /** Requests as received: method, path, whether the credentials were right. */
  readonly requests: Array<{ method: string; path: string; authorized: boolean; body: unknown }> = [];

  protected abstract handle(method: string, url: URL, body: unknown, authorization: string | undefined): { status: number; body: unknown; authorized: boolean };

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Separate calls: restify (loaded by the service in the same process) replaces writeHead with one that does not return `res`.
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'body is not JSON' }));
      return;
    }
    const url = new URL(req.url ?? '/', this.baseUrl);
    const answer = this.handle(req.method ?? 'GET', url, body, req.headers.authorization);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, authorized: answer.authorized, body });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}

/** POSTs a signed webhook as the tracker would: the raw body, and the signature headers given. */
export async function postWebhook(url: string, raw: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: raw });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

export const hexHmac = (secret: string, raw: string) => createHmac('sha256', secret).update(raw, 'utf8').digest('hex');
