import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeIdentityProvider } from '../../test/fakes/identity-provider.js';
import { testCaPath } from '../../test/fakes/tls.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../../test/support/identity.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts one bot under test (bench/bot-server.ts) in its own process, with auth on against the fake
 * identity provider. `env` adds or overrides settings (DATABASE_URL, AGENT_IDS, …); `nodeArgs` go to
 * node (e.g. --cpu-prof to profile the bot).
 */
export async function startBot(kind: 'desk' | 'echo', identity: FakeIdentityProvider, env: Record<string, string>, nodeArgs: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/bot-server.ts', kind], {
    cwd: root,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: testCaPath,
      NODE_NO_WARNINGS: '1',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'desk.db')}`,
      LOG_LEVEL: 'warn',
      BOT_ID: BOT_APP_ID,
      BOT_PASSWORD,
      ToBotFromChannelOpenIdMetadataUrl: identity.openIdMetadataUrl,
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      ToChannelFromBotLoginUrl: identity.loginUrl,
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ALLOWED_TENANT_IDS: '*',
      ALLOWED_SERVICE_URLS: 'http://127.0.0.1:*',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`${kind} bot exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/api/messages`,
    /** CPU milliseconds the bot process has used so far (user + system), from /proc. */
    cpuMs: () => processCpuMs(child.pid!),
    stop: () => child.kill('SIGTERM'),
  };
}

/** CPU milliseconds used so far by every process whose command line contains `name` (e.g. postgres), or undefined where /proc can't tell. */
export function cpuMsOf(name: string): number | undefined {
  try {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(name)) total += processCpuMs(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}
