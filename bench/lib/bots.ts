import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FakeIdentityProvider } from '../../test/fakes/identity-provider.js';
import { testCaPath } from '../../test/fakes/tls.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../../test/support/identity.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts one bot under test (bench/bot-server.ts) in its own process, with auth on against the fake
 * identity provider. `env` adds or overrides settings (DATABASE_URL, AGENT_IDS, LOG_LEVEL, …); without
 * LOG_LEVEL the desk logs at the shipped default, to a pipe this process drains, as a container's
 * stdout would be. `nodeArgs` go to node (e.g. --cpu-prof to profile the bot); `ipc` opens the channel
 * bench/bot-server.ts listens on for a manual clock; `compiled` runs it as JavaScript built by tsc, as
 * `npm start` runs the service, rather than through tsx, whose loader (a thread of its own) and
 * transpile caches would be counted in the bot's memory.
 */
export async function startBot(kind: 'desk' | 'echo', identity: FakeIdentityProvider, env: Record<string, string>, nodeArgs: string[] = [], options: { ipc?: boolean; compiled?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const inherited = { ...process.env };
  // The shell's LOG_LEVEL must not quietly change what is measured.
  delete inherited.LOG_LEVEL;
  const entry = options.compiled ? [await compiledServer()] : ['--import', 'tsx', 'bench/bot-server.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, kind], {
    cwd: root,
    env: {
      ...inherited,
      NODE_EXTRA_CA_CERTS: testCaPath,
      NODE_NO_WARNINGS: '1',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'desk.db')}`,
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
    stdio: options.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  /** What the bot wrote to stdout (its log) since it started listening. */
  const log = { bytes: 0, lines: 0 };
  let ready = false;
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (ready) {
        log.bytes += chunk.length;
        for (const byte of chunk) if (byte === 10) log.lines += 1;
        return;
      }
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match) {
        ready = true;
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`${kind} bot exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/api/messages`,
    pid: child.pid!,
    log,
    /** CPU milliseconds the bot process has used so far (user + system), from /proc. */
    cpuMs: () => processCpuMs(child.pid!),
    /** Resident memory of the bot process in bytes: all of it, anonymous (heap), and file-backed (mapped files, e.g. SQLite's mmap), from /proc. */
    rss: () => processRss(child.pid!),
    /** Sends a message on the IPC channel and waits for the answer. */
    ask: <T>(message: unknown) =>
      new Promise<T>((resolve, reject) => {
        child.once('message', (answer: T & { error?: string }) => (answer.error ? reject(new Error(answer.error)) : resolve(answer)));
        child.send(message as object);
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

let compiling: Promise<string> | undefined;

/** Builds bench/bot-server.ts and src/ into dist/ with tsc (once per run); returns the script's path. */
function compiledServer(): Promise<string> {
  compiling ??= promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'bench/tsconfig.server.json')], { cwd: root }).then(() => join(root, 'dist/bench/bot-server.js'));
  return compiling;
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

/** VmRSS, RssAnon and RssFile (+ RssShmem) from /proc/<pid>/status (see proc(5), https://man7.org/linux/man-pages/man5/proc.5.html). */
function processRss(pid: number): { total: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}
