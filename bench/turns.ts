import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { personalMessage } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';

/**
 * Turn throughput and p99 latency of the `help` turn over HTTP with auth on, against a bare botbuilder
 * echo bot on the same adapter, measured in the same run. Both bots validate a real channel token and
 * send their reply to the fake connector with a real bot token.
 */
export async function benchTurns(options: { durationMs: number; concurrency: number }): Promise<{ ratio: number; desk: LoadResult; echo: LoadResult }> {
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const body = JSON.stringify(personalMessage(ctx, 'help'));
  const send = (url: string) => async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
    await response.arrayBuffer();
    return response.status;
  };

  const desk = await startBot('desk', identity, {});
  const echo = await startBot('echo', identity, {});
  try {
    // Warm both up (JIT, key and token caches, SQLite pages), then alternate measured rounds so drift in
    // the machine's load falls on both alike.
    await runLoad(send(desk.url), { concurrency: options.concurrency, durationMs: 1_000 });
    await runLoad(send(echo.url), { concurrency: options.concurrency, durationMs: 1_000 });
    const rounds: Array<{ desk: LoadResult; echo: LoadResult }> = [];
    for (let i = 0; i < 2; i++) {
      const e = await runLoad(send(echo.url), options);
      const d = await runLoad(send(desk.url), options);
      rounds.push({ desk: d, echo: e });
    }
    const total = (pick: 'desk' | 'echo') => rounds.reduce((sum, r) => sum + r[pick].perSecond, 0);
    const best = (pick: 'desk' | 'echo') => rounds.map((r) => r[pick]).sort((a, b) => b.perSecond - a.perSecond)[0]!;
    return { ratio: total('desk') / total('echo'), desk: best('desk'), echo: best('echo') };
  } finally {
    desk.stop();
    echo.stop();
    await connector.stop();
    await identity.stop();
  }
}

export function reportTurns(result: Awaited<ReturnType<typeof benchTurns>>): string {
  return [
    formatLoad('echo bot (baseline)', result.echo),
    formatLoad('service desk `help`', result.desk),
    `help / echo throughput ratio: ${result.ratio.toFixed(2)}  (goal ≥ 0.80)`,
  ].join('\n');
}
