import { ActivityHandler, type TurnContext } from 'botbuilder';
import restify from 'restify';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/service.js';
import { createTeamsAdapter } from '../src/teams/adapter.js';

/**
 * One bot under test, in its own process so it has a core to itself, as it would in production:
 * `desk` is the service desk as shipped; `echo` is a bare botbuilder echo bot on the same adapter and
 * the same auth, the baseline. Prints `READY <port>` when it listens.
 */
const kind = process.argv[2];
const parsed = parseConfig(process.env);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const config = parsed.config;

if (kind === 'desk') {
  const service = await startService(config, createLogger('warn'));
  process.stdout.write(`READY ${service.address.port}\n`);
  process.on('SIGTERM', () => void service.stop().then(() => process.exit(0)));
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
