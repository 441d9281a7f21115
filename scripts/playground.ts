import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readEnvironment } from './lib/app-package.js';
import { botReady } from './lib/ready.js';

/**
 * `npm run playground`: the bot in local mode (env/.env.playground: no credentials, loopback only) and
 * the Microsoft 365 Agents Playground talking to it. Open http://localhost:56150 in a browser; on a
 * machine without one, TEAMSAPPTESTER_BROWSER=none keeps the playground from trying to open it.
 */
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));
const settings = readEnvironment(root, 'playground');
const port = settings.PORT ?? '3978';
const playgroundPort = process.env.PLAYGROUND_PORT ?? '56150';
const children: ChildProcess[] = [];

function start(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
  children.push(child);
  child.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`${command} exited (${code ?? 'signal'}); stopping the playground.\n`);
      stop(code ?? 1);
    }
  });
  return child;
}

let stopping = false;
function stop(code: number): void {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1_500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// The bot: no BOT_ID, so it runs without auth and binds to 127.0.0.1 only.
const botEnv: NodeJS.ProcessEnv = { ...process.env, ...settings, BOT_ID: '', NODE_ENV: 'development' };
start(process.execPath, ['--import', 'tsx', 'src/main.ts'], botEnv);

if (!(await botReady(port, 20_000))) throw new Error(`the bot did not become ready on port ${port} within 20 s`);
process.stdout.write(`Bot ready on http://127.0.0.1:${port}/api/messages; starting the Agents Playground on http://localhost:${playgroundPort}\n`);
start(
  process.execPath,
  [fileURLToPath(import.meta.resolve('@microsoft/m365agentsplayground/cli.js')), 'start', '-e', `http://127.0.0.1:${port}/api/messages`, '-c', 'msteams', '-p', playgroundPort],
  { ...process.env },
);
