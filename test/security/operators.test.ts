import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { personalMessage } from '../support/activities.js';
import { LogCapture, startHarness, type Harness } from '../support/harness.js';

/** What an operator's endpoints and files give away to someone who is not the operator. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('/readyz', () => {
  it('tells anyone ready or degraded per integration, and the metrics token holder why', async () => {
    h = await startHarness({ mail: true, hubspot: true, env: { METRICS_TOKEN: 'ops-token' } });
    expect((await fetch(`${h.service.url}/readyz`)).status).toBe(200);
    h.graph.fail(() => true, { status: 503 }, 1_000);
    h.hubspot.down = true;
    const report = await h.service.health.report({ fresh: true });
    expect(report.checks.mailbox).toMatchObject({ status: 'degraded', lastError: expect.any(String) });

    const anonymous = await fetch(`${h.service.url}/readyz`);
    expect(anonymous.status).toBe(200);
    const text = await anonymous.text();
    expect(JSON.parse(text)).toEqual({ status: 'ready', checks: { database: { status: 'ok' }, bot: { status: 'ok' }, mailbox: { status: 'degraded' }, hubspot: { status: 'degraded' } } });
    expect(text).not.toMatch(/503|localhost|127\.0\.0\.1|lastError|lastOkAt|support@/);

    const wrongToken = await fetch(`${h.service.url}/readyz`, { headers: { authorization: 'Bearer guess' } });
    expect(await wrongToken.text()).not.toMatch(/lastError/);
    const operator = (await (await fetch(`${h.service.url}/readyz`, { headers: { authorization: 'Bearer ops-token' } })).json()) as { checks: Record<string, { lastError?: string }> };
    expect(operator.checks.mailbox!.lastError).toMatch(/503/);
  });
});

describe('/metrics', () => {
  it('needs METRICS_TOKEN when the service listens beyond loopback, and says so', async () => {
    h = await startHarness({ env: { HOST: '0.0.0.0' } });
    const response = await fetch(`http://127.0.0.1:${h.service.address.port}/metrics`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/set METRICS_TOKEN/) });
    expect(h.logs.lines.some((l) => l.level === 'warn' && /METRICS_TOKEN is not set/.test(l.msg))).toBe(true);
  });

  it('is open on loopback without a token, and behind the token beyond it', async () => {
    h = await startHarness();
    expect((await fetch(`${h.service.url}/metrics`)).status).toBe(200);
    await h.stop();
    h = await startHarness({ env: { HOST: '0.0.0.0', METRICS_TOKEN: 'scrape' } });
    const url = `http://127.0.0.1:${h.service.address.port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer scrape' } })).status).toBe(200);
  });
});

describe('log redaction', () => {
  /** Shaped like an HTTP client's error (axios and others keep the failed request's config on the error). */
  class AxiosError extends Error {}
  function clientError(): Error {
    const error = new AxiosError('Request failed with status code 401') as Error & Record<string, unknown>;
    error.code = 'ERR_BAD_REQUEST';
    error.config = {
      url: 'https://graph.microsoft.com/v1.0/users/support/messages',
      method: 'get',
      headers: { Accept: 'application/json', Authorization: 'Bearer eyJhbGciOi.secret-graph-token.sig', 'X-Api-Key': 'k-123-secret' },
      data: { client_id: 'app', client_secret: 'entra-client-secret', grant_type: 'client_credentials' },
    };
    error.response = { status: 401, data: { error: { code: 'InvalidAuthenticationToken' } }, headers: { 'set-cookie': ['session=cookie-secret'] } };
    error.cause = Object.assign(new Error('inner'), { request: { headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' } } });
    return error;
  }

  it('censors secret fields at any depth and in any spelling, in errors too, and leaves the caller\'s objects alone', () => {
    const capture = new LogCapture();
    const logger = createLogger('info', capture);
    const error = clientError();
    logger.error({ err: error }, 'graph call failed');
    logger.warn({ outer: { list: [{ deeper: { Access_Token: 'at-secret', Password: 'pw-secret', clientState: 'cs-secret', refreshToken: 'rt-secret' } }] }, failure: clientError() }, 'nested');
    logger.info({ message: 'upstream said: Authorization: Bearer abc.def.ghi', url: 'postgres://desk:db-password@db:5432/desk' }, 'in text');

    const all = capture.raw.join('\n');
    for (const secret of ['secret-graph-token', 'k-123-secret', 'entra-client-secret', 'cookie-secret', 'dXNlcjpwYXNzd29yZA', 'at-secret', 'pw-secret', 'cs-secret', 'rt-secret', 'abc.def.ghi', 'db-password']) {
      expect(all, secret).not.toContain(secret);
    }
    // What helps an operator stays: the error's type, message, stack, status, code and URL.
    const [first] = capture.lines;
    expect(first!.err).toMatchObject({ type: 'AxiosError', message: expect.stringMatching(/^Request failed with status code 401/), code: 'ERR_BAD_REQUEST', config: { url: expect.stringContaining('graph.microsoft.com'), headers: { Accept: 'application/json', Authorization: '[redacted]' } } });
    expect(first!.err.stack).toContain('clientError');
    expect(first!.err.response.data.error.code).toBe('InvalidAuthenticationToken');
    expect(capture.lines[2]!.url).toBe('postgres://desk:[redacted]@db:5432/desk');
    expect((error as unknown as { config: { headers: { Authorization: string } } }).config.headers.Authorization).toMatch(/^Bearer eyJ/);
  });

  it('survives circular structures', () => {
    const capture = new LogCapture();
    const node: Record<string, unknown> = { token: 't-secret' };
    node.self = node;
    createLogger('info', capture).info({ node }, 'loop');
    expect(capture.raw[0]).not.toContain('t-secret');
    expect(capture.lines[0]!.node.self).toBe('[Circular]');
  });
});

describe('files', () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  it('the SQLite database, its -wal and -shm, and its folder are readable by the service\'s user only', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'desk-modes-')), 'data');
    const file = join(dir, 'desk.db');
    h = await startHarness({ env: { DATABASE_URL: `sqlite:${file}` } });
    const activity = personalMessage(h, 'help');
    expect((await h.post(activity)).status).toBe(200);
    await h.connector.waitFor((c) => c.activityId === activity.id);
    expect(mode(dir)).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}.lock`]) expect(mode(path).toString(8), path).toBe('600');

    // A backup holds the same data.
    const target = join(dir, 'backup.db');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const backup = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', target], { cwd: root, env: { ...process.env, DATABASE_URL: `sqlite:${file}` }, stdio: 'ignore' });
    expect(await new Promise((resolve) => backup.on('exit', resolve))).toBe(0);
    expect(mode(target).toString(8)).toBe('600');
  });
});
