import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

/** Runs src/main.ts as its own process, the way `npm start` does after the build. */
function run(env: Record<string, string>) {
  const child = spawn(tsx, ['src/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

function waitForLine(proc: ReturnType<typeof run>, pattern: RegExp): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern}:\n${proc.output().stdout}\n${proc.output().stderr}`)), 15_000);
    proc.child.stdout.on('data', () => {
      const line = proc.output().stdout.split('\n').find((l) => pattern.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
  });
}

describe('the service process', () => {
  it('refuses to start in production without bot credentials, and says what to set', async () => {
    const proc = run({ NODE_ENV: 'production', DATABASE_URL: ':memory:' });
    expect(await proc.exited).toBe(1);
    expect(proc.output().stderr).toMatch(/BOT_ID: required when NODE_ENV=production/);
  });

  it('lists every configuration problem before exiting', async () => {
    const proc = run({ PORT: 'abc', DATABASE_URL: 'mysql://x' });
    expect(await proc.exited).toBe(1);
    expect(proc.output().stderr).toMatch(/PORT/);
  });

  it('starts on the embedded database, logs JSON, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'process-test-'));
    const proc = run({ PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'desk.db')}`, LOG_LEVEL: 'info' });
    const listening = await waitForLine(proc, /service desk listening/);
    expect(listening).toMatchObject({ level: 'info', database: 'sqlite', auth: 'off (local mode)' });
    const health = await fetch(`http://127.0.0.1:${listening.port}/readyz`);
    expect(health.status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output().stdout).toMatch(/shut down cleanly/);
  });
});
