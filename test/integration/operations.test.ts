import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';
import { DatabaseInUseError } from '../../src/store/database.js';
import { enqueue } from '../../src/store/outbox.js';
import { alex, personalConversationId } from '../support/activities.js';
import { startHarness, TEST_SLA_POLICY, type Harness } from '../support/harness.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sd-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite serves one process', () => {
  const config = (file: string) => {
    const parsed = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'silent' });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    return parsed.config;
  };

  it('refuses to start a second service on the same file, saying what to do', async () => {
    const file = join(dir, 'taken.db');
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(`${file}.lock`, String(other.pid));
      const started = startService(config(file), createLogger('silent'), { sla: TEST_SLA_POLICY });
      await expect(started).rejects.toBeInstanceOf(DatabaseInUseError);
      await expect(started).rejects.toThrow(`Another Service Desk process (pid ${other.pid}) is using ${file}. SQLite serves one process; stop the other one, or set DATABASE_URL=postgres://… to run several replicas on one database.`);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock left by a process that died, and gives it back on stop', async () => {
    const file = join(dir, 'stale.db');
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(`${file}.lock`, String(dead.pid));
    const service = await startService(config(file), createLogger('silent'), { sla: TEST_SLA_POLICY });
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.pid));
    await service.stop();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('dead letters', () => {
  let h: Harness;
  afterEach(() => h?.stop());

  it('are listed and re-driven by npm run outbox, while the service runs', { timeout: 30_000 }, async () => {
    const file = join(dir, 'dead.db');
    h = await startHarness({ env: { DATABASE_URL: `sqlite:${file}` } });
    await h.install(alex);
    const db = h.service.database.db;
    const chat = await db.selectFrom('conversation_references').select('id').where('conversation_id', '=', personalConversationId(alex)).executeTakeFirstOrThrow();
    // Teams refuses it outright once (a 400 is not retried), so it is dead-lettered at once.
    h.connector.fail(1, { status: 400, body: { error: { code: 'BadArgument', message: 'Unknown activity type' } } }, (c) => c.operation === 'send' && c.conversationId === personalConversationId(alex));
    await enqueue(db, [{ idempotencyKey: 'ops-test', operation: 'send', conversationRefId: chat.id, activity: { type: 'message', text: 'hello later' } }], Date.now());
    h.service.outbox.wake();
    await expect.poll(async () => (await db.selectFrom('outbox').select('status').where('idempotency_key', '=', 'ops-test').executeTakeFirstOrThrow()).status).toBe('dead');

    const env = { ...process.env, DATABASE_URL: `sqlite:${file}` };
    const listed = await run(process.execPath, ['--import', 'tsx', 'scripts/outbox.ts'], { env });
    expect(listed.stdout).toContain('Dead-lettered: 1 Teams message(s), 0 email(s), 0 event(s) to integrations.');
    expect(listed.stdout).toMatch(/teams:\d+ +ticket - +1 attempts .* ops-test/);
    const retried = await run(process.execPath, ['--import', 'tsx', 'scripts/outbox.ts', 'retry'], { env });
    expect(retried.stdout).toContain('1 dead-lettered message(s) queued again');
    await h.connector.waitFor((c) => c.activity.text === 'hello later');
    await expect.poll(async () => (await db.selectFrom('outbox').select('status').where('idempotency_key', '=', 'ops-test').executeTakeFirstOrThrow()).status).toBe('sent');
    await expect(run(process.execPath, ['--import', 'tsx', 'scripts/outbox.ts', 'retry', 'nonsense'], { env })).rejects.toMatchObject({ stderr: expect.stringContaining('"nonsense" is not teams:<id>, mail:<id> or events:<id>') });
  });
});
