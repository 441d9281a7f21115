import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `npm run demo`, headless: the real script with the bot, the Agents Playground (no browser), the local
 * mailbox and CRM, at twenty times the pace. The story's cards must reach the Playground's connector.
 */
describe('the demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'desk-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with no credentials and no network, and the first ticket, its warning, reminder and escalation appear', async () => {
    const [port, playgroundPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--disable-warning=DEP0111', '--import', 'tsx', 'scripts/demo.ts', '--no-wait', '--pace', '0.05', '--port', String(port), '--playground-port', String(playgroundPort), '--dir', dir], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, TEAMSAPPTESTER_BROWSER: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const told = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) resolve();
          else if (child.exitCode !== null) reject(new Error(`the demo exited (${child.exitCode}) before saying ${pattern}:\n${stdout}\n${stderr}`));
          else setTimeout(check, 100);
        };
        check();
      });

    try {
      await told(/INC-1001 opened from Dana's email/);
      await told(/its card is in Support › Triage/);
      await told(/acknowledgement in the same email thread/);
      await told(/Fabrikam is VIP/);
      await told(/SLA warning card for INC-1001 arrived/);
      await told(/reminder for INC-1001 fired/);
      await told(/INC-1001 breached and escalated to Alex/);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    // The cards went to the Playground's connector (it answered), one email led to all of them.
    const log = readFileSync(join(dir, 'service.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const delivered = log.filter((l) => l.msg === 'outbox message delivered').map((l) => String(l.key));
    expect(delivered.some((k) => k.startsWith('ticket:1001:created:'))).toBe(true);
    expect(delivered.some((k) => k.startsWith('sla:1001:first_response:warning:'))).toBe(true);
    expect(log.filter((l) => l.level === 'error')).toEqual([]);
  }, 90_000);
});
