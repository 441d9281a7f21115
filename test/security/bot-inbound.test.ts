import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { personalMessage, TENANT_ID } from '../support/activities.js';
import { BOT_APP_ID, startHarness, type Harness } from '../support/harness.js';

/**
 * The Bot Framework boundary, walked through the real endpoint: botbuilder's JWT validation against the
 * fake identity provider, and the allowlists in front of it. A refused activity stores nothing, sends
 * nothing (to the foreign host or anywhere else) and leaves one log line.
 */

/** A host the bot must never call: it records every request it gets, headers included. */
class ForeignHost {
  readonly requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  private readonly server: Server = createServer((req, res) => {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"1"}');
  });
  port = 0;
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const stored = async (h: Harness) => ({
  conversations: (await h.service.database.db.selectFrom('conversation_references').select('conversation_id').execute()).length,
  tickets: (await h.service.database.db.selectFrom('tickets').select('id').execute()).length,
  // Anything a turn sends later goes through the outbox.
  outbox: (await h.service.database.db.selectFrom('outbox').select('id').execute()).length,
});

/** Posts `activity` and checks the refusal: status, JSON error, nothing stored or sent, one log line. */
async function expectRefused(h: Harness, activity: { id: string }, status: number, auth?: Parameters<Harness['post']>[1], foreign?: ForeignHost) {
  const before = await stored(h);
  const callsBefore = h.connector.calls.length;
  const linesBefore = h.logs.lines.length;
  const response = await h.post(activity, auth);
  expect(response.status).toBe(status);
  expect(response.body).toMatchObject({ error: expect.any(String), reason: expect.any(String) });
  expect(await stored(h)).toEqual(before);
  expect(h.connector.calls.length).toBe(callsBefore);
  expect(foreign?.requests ?? []).toEqual([]);
  const lines = h.logs.lines.slice(linesBefore).filter((l) => l.level !== 'debug');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 'warn', activityId: activity.id });
  return response;
}

describe('with bot credentials', () => {
  let h: Harness;
  let foreign: ForeignHost;
  beforeAll(async () => {
    foreign = await new ForeignHost().start();
    h = await startHarness({ env: { ALLOWED_TENANT_IDS: TENANT_ID } });
  });
  afterAll(async () => {
    await h.stop();
    await foreign.stop();
  });

  it('answers a channel token for this bot, from the allowed connector, in the allowed tenant', async () => {
    const activity = personalMessage(h, 'help');
    expect((await h.post(activity)).status).toBe(200);
    await h.connector.waitFor((c) => c.activityId === activity.id);
  });

  it.each([
    ['a forged signature (a key the provider does not publish)', { forged: true }],
    ['a token from another issuer', { issuer: 'https://sts.windows.net/another-tenant/' }],
    ['a token for another bot', { audience: '11111111-2222-3333-4444-555555555555' }],
    ['an Emulator token, while ALLOW_EMULATOR_TOKENS is off', { emulator: true }],
  ] as const)('refuses %s with 401', async (_name, auth) => {
    await expectRefused(h, personalMessage(h, 'new VPN is down'), 401, auth);
  });

  it('refuses a valid token naming a serviceUrl outside ALLOWED_SERVICE_URLS, and never calls that host', async () => {
    // Signed for that serviceUrl, so botbuilder alone would accept it and reply there with the bot's token.
    const serviceUrl = `http://localhost:${foreign.port}/`;
    const activity = personalMessage({ serviceUrl, botAppId: BOT_APP_ID }, 'new VPN is down');
    const response = await expectRefused(h, activity, 403, { serviceUrl }, foreign);
    expect(response.body.reason).toMatch(/serviceUrl/);
    expect(h.logs.lines.at(-1)).toMatchObject({ serviceOrigin: `http://localhost:${foreign.port}` });
  });

  it('reads the serviceUrl as a URL: an allowed host in the user-info part does not make it allowed', async () => {
    const serviceUrl = `http://127.0.0.1:80@localhost:${foreign.port}/`;
    await expectRefused(h, personalMessage({ serviceUrl, botAppId: BOT_APP_ID }, 'new VPN is down'), 403, { serviceUrl }, foreign);
  });

  it('refuses another channel than msteams', async () => {
    const response = await expectRefused(h, personalMessage(h, 'new VPN is down', { channelId: 'webchat' }), 403);
    expect(response.body.reason).toMatch(/msteams/);
  });

  it('refuses a tenant outside ALLOWED_TENANT_IDS, and an activity that names no tenant', async () => {
    const foreignTenant = '0badc0de-0000-4000-8000-000000000000';
    const elsewhere = personalMessage(h, 'new VPN is down', {
      conversation: { conversationType: 'personal', tenantId: foreignTenant, id: 'a:personal-elsewhere' },
      channelData: { tenant: { id: foreignTenant } },
    });
    expect((await expectRefused(h, elsewhere, 403)).body.reason).toMatch(/tenant/);
    const nowhere = personalMessage(h, 'new VPN is down', { conversation: { conversationType: 'personal', id: 'a:personal-nowhere' }, channelData: {} });
    await expectRefused(h, nowhere, 403);
  });
});

describe('Emulator tokens', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('are accepted only when ALLOW_EMULATOR_TOKENS=true', async () => {
    h = await startHarness({ env: { ALLOW_EMULATOR_TOKENS: 'true' } });
    const activity = personalMessage(h, 'help');
    expect((await h.post(activity, { emulator: true })).status).toBe(200);
    await h.connector.waitFor((c) => c.activityId === activity.id);
  });
});

describe('local mode (no credentials)', () => {
  let h: Harness;
  let foreign: ForeignHost;
  beforeAll(async () => {
    foreign = await new ForeignHost().start();
    h = await startHarness({ auth: false });
  });
  afterAll(async () => {
    await h.stop();
    await foreign.stop();
  });

  it('serves the Agents Playground and the Emulator on loopback by default', async () => {
    expect(h.config.http.host).toBe('127.0.0.1');
    const activity = personalMessage(h, 'help');
    expect((await h.post(activity)).status).toBe(200);
    await h.connector.waitFor((c) => c.activityId === activity.id);
    const emulator = personalMessage(h, 'help', { channelId: 'emulator' });
    expect((await h.post(emulator)).status).toBe(200);
  });

  it('still sends nothing to a serviceUrl off loopback', async () => {
    const serviceUrl = `http://127.0.0.1.nip.io:${foreign.port}/`;
    await expectRefused(h, personalMessage({ serviceUrl, botAppId: BOT_APP_ID }, 'new VPN is down'), 403, undefined, foreign);
  });
});
