import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personalMessage } from '../support/activities.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * What the HTTP edge accepts before any route authenticates anyone: JSON bodies up to MAX_BODY_BYTES,
 * on every POST route, and nothing written to disk for a request that is refused.
 */

const MAX = 4096;
const ROUTES = ['/api/messages', '/api/notifications/graph', '/api/webhooks/hubspot'];

/** Files in the temp folder written since `since` that contain `marker` (where a multipart parser would put an upload). */
function tempFilesWith(marker: string, since: number): string[] {
  const found: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    try {
      const stat = statSync(path);
      if (!stat.isFile() || stat.mtimeMs < since - 1_000 || stat.size > 1_000_000) continue;
      if (readFileSync(path).includes(marker)) found.push(path);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** A raw request, so the test controls framing (chunked, a lying Content-Length) the way an attacker would. */
function send(url: string, options: { headers: Record<string, string>; chunks: Buffer[] }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    for (const chunk of options.chunks) req.write(chunk);
    req.end();
  });
}

describe('request bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mail: true, hubspot: true, env: { MAX_BODY_BYTES: String(MAX) } });
  });
  afterAll(() => h.stop());

  const storedConversations = async () => (await h.service.database.db.selectFrom('conversation_references').select('conversation_id').execute()).length;

  it.each(ROUTES)('%s refuses multipart with 415 and writes nothing to the temp folder', async (path) => {
    const marker = `upload-${randomUUID()}`;
    const since = Date.now();
    const form = new FormData();
    form.append('activity', JSON.stringify(personalMessage(h, 'new VPN is down')));
    form.append('file', new Blob([`${marker}\n`.repeat(50)], { type: 'application/octet-stream' }), 'evidence.bin');
    const response = await fetch(`${h.service.url}${path}`, { method: 'POST', body: form });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/application\/json/) });
    expect(tempFilesWith(marker, since)).toEqual([]);
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'type=message&text=hi'],
    ['plain text', 'text/plain', '{"type":"message"}'],
    ['no content type', '', '{"type":"message"}'],
  ])('refuses %s with 415 on every POST route', async (_name, contentType, body) => {
    for (const path of ROUTES) {
      const response = await fetch(`${h.service.url}${path}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body: contentType ? body : new Blob([body]) });
      expect(response.status, path).toBe(415);
    }
  });

  it('refuses a gzip body with 415 (its inflated size is unknown until inflated)', async () => {
    const response = await send(`${h.service.url}/api/messages`, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, chunks: [Buffer.from('not really gzip')] });
    expect(response.status).toBe(415);
  });

  it('refuses a body over MAX_BODY_BYTES with 413, by its Content-Length or while reading a chunked one', async () => {
    const before = await storedConversations();
    const big = JSON.stringify(personalMessage(h, 'x'.repeat(MAX * 2)));
    const declared = await fetch(`${h.service.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: expect.stringMatching(String(MAX)) });
    const chunked = await send(`${h.service.url}/api/messages`, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: [Buffer.from(big.slice(0, MAX / 2)), Buffer.from(big.slice(MAX / 2))],
    });
    expect(chunked.status).toBe(413);
    expect(await storedConversations()).toBe(before);
    expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
  });

  it('still takes JSON just under the cap, and the Graph validation handshake (text/plain, no body)', async () => {
    const activity = personalMessage(h, 'help');
    const padded = { ...activity, padding: 'p'.repeat(MAX - JSON.stringify(activity).length - 20) };
    expect((await h.post(padded)).status).toBe(200);
    const handshake = await fetch(`${h.service.url}/api/notifications/graph?validationToken=abc%20123`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(handshake.status).toBe(200);
    expect(await handshake.text()).toBe('abc 123');
  });

  it('says X-Content-Type-Options: nosniff on every answer, refusals and restify\'s own included', async () => {
    const answers = await Promise.all([
      fetch(`${h.service.url}/healthz`),
      fetch(`${h.service.url}/readyz`),
      fetch(`${h.service.url}/metrics`),
      fetch(`${h.service.url}/no-such-page`),
      fetch(`${h.service.url}/healthz`, { method: 'DELETE' }),
      fetch(`${h.service.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'text/html' }, body: '<script>' }),
      fetch(`${h.service.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":' }),
      fetch(`${h.service.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(personalMessage(h, 'help')) }),
      fetch(`${h.service.url}/api/notifications/graph?validationToken=%3Cscript%3E`, { method: 'POST' }),
    ]);
    expect(new Set(answers.map((a) => a.status)).size).toBeGreaterThanOrEqual(6);
    for (const answer of answers) expect(answer.headers.get('x-content-type-options'), `${answer.url} ${answer.status}`).toBe('nosniff');
  });
});

describe('Graph notifications', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { GRAPH_NOTIFICATION_URL: 'https://desk.contoso.example/api/notifications/graph' } });
  });
  afterAll(() => h.stop());

  it('refuse a wrong clientState without asking the database', async () => {
    await expect.poll(() => h.graph.subscriptions.size).toBe(1);
    expect(await h.graph.notify()).toEqual([202]);
    // With the database gone, anything that still answers 401 did so without a query.
    await h.service.database.close();
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${h.service.url}/api/notifications/graph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: [{ subscriptionId: 'x', clientState: `guess-${i}`, changeType: 'created' }] }) }),
      ),
    );
    expect(guesses.map((g) => g.status)).toEqual(Array(20).fill(401));
  });
});
