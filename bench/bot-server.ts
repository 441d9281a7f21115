import { ActivityHandler, type TurnContext } from 'botbuilder';
import restify from 'restify';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService, type ServiceOptions } from '../src/service.js';
import { loadSlaPolicy } from '../src/sla-config.js';
import { createTeamsAdapter } from '../src/teams/adapter.js';

/**
 * One bot under test, in its own process so it has a core (and a heap) to itself, as it would in
 * production: `desk` is the service desk as shipped, logging at the configured level (the default,
 * `info`, unless the benchmark says otherwise) to stdout like src/main.ts; `echo` is a bare botbuilder
 * echo bot on the same adapter and the same auth, the baseline. Prints `READY <port>` when it listens.
 *
 * With an IPC channel and BENCH_CLOCK=manual, the desk runs on a clock the parent moves: each
 * `{ advanceMs }` message moves it, sweeps what became due, reads the mailbox once when email is on,
 * and answers `{ swept, memory }` (process.memoryUsage()); `{ gc: true }` collects garbage first (when
 * node runs with --expose-gc) and answers `{ memory }`. (the memory benchmark's compressed hour).
 */
const kind = process.argv[2];
const parsed = parseConfig(process.env);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const config = parsed.config;

if (kind === 'desk') {
  const sla = loadSlaPolicy(config.slaConfigPath);
  if (!sla.ok) throw new Error(sla.problems.join('; '));
  const manual = process.env.BENCH_CLOCK === 'manual' && process.send !== undefined;
  let offsetMs = 0;
  const options: ServiceOptions = { sla: sla.policy, ...(manual ? { clock: () => Date.now() + offsetMs, sweeper: { automatic: false } } : {}) };
  const service = await startService(config, createLogger(config.logLevel), options);
  process.stdout.write(`READY ${service.address.port}\n`);
  process.on('SIGTERM', () => void service.stop().then(() => process.exit(0)));
  if (manual) {
    process.on('message', (message: { advanceMs: number } | { gc: true }) => {
      void (async () => {
        if ('gc' in message) {
          // Only with --expose-gc: what is still alive, as opposed to garbage not yet collected.
          globalThis.gc?.();
          process.send!({ memory: process.memoryUsage() });
          return;
        }
        offsetMs += message.advanceMs;
        let swept = 0;
        for (let n = await service.sweeper.sweepOnce(); n > 0; n = await service.sweeper.sweepOnce()) swept += n;
        if (service.mail) await service.mail.sync.round();
        process.send!({ swept, memory: process.memoryUsage() });
      })().catch((error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }));
    });
  }
} else if (kind === 'echo') {
  const adapter = createTeamsAdapter(config.bot);
  const bot = new (class extends ActivityHandler {
    constructor() {
      super();
      this.onMessage(async (context: TurnContext, next) => {
        await context.sendActivity(`You said: ${context.activity.text}`);
        await next();
      });
    }
  })();
  const server = restify.createServer();
  server.use(restify.plugins.bodyParser());
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  server.listen(config.http.port, config.http.host, () => {
    process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  throw new Error('usage: bot-server.ts desk|echo');
}
