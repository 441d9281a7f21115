import { parseConfig } from '../src/config.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { personalMessage } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { formatLoad, median, runLoad, type LoadResult } from './lib/load.js';

/**
 * Turn throughput and p99 latency of the `help` turn over HTTP with auth on, against a bare botbuilder
 * echo bot on the same adapter, measured in the same run. Both bots validate a real channel token and
 * send their reply to the fake connector with a real bot token. The desk logs at the level it ships
 * with (LOG_LEVEL's default) to a pipe, as in production. Rounds alternate echo and desk; the ratio is
 * taken within each round and the median round is reported, not the best.
 */
export async function benchTurns(options: { durationMs: number; concurrency: number; rounds: number }) {
  const shipped = parseConfig({});
  if (!shipped.ok) throw new Error(shipped.problems.join('; '));
  const logLevel = shipped.config.logLevel;
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
    const rounds: Array<{ desk: LoadResult; echo: LoadResult; ratio: number }> = [];
    const log = { bytes: 0, lines: 0, turns: 0 };
    for (let i = 0; i < options.rounds; i++) {
      const e = await runLoad(send(echo.url), options);
      const before = { ...desk.log };
      const d = await runLoad(send(desk.url), options);
      log.bytes += desk.log.bytes - before.bytes;
      log.lines += desk.log.lines - before.lines;
      log.turns += d.requests;
      rounds.push({ desk: d, echo: e, ratio: d.perSecond / e.perSecond });
    }
    const middle = rounds.find((r) => r.ratio === median(rounds.map((x) => x.ratio)))!;
    return { ...middle, ratios: rounds.map((r) => r.ratio), logLevel, log, options };
  } finally {
    desk.stop();
    echo.stop();
    await connector.stop();
    await identity.stop();
  }
}

export function reportTurns(r: Awaited<ReturnType<typeof benchTurns>>): string {
  return [
    `${r.options.rounds} rounds of ${r.options.durationMs / 1000} s, ${r.options.concurrency} turns in flight; the median round (ratios of all rounds: ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`,
    formatLoad('echo bot (baseline)', r.echo),
    formatLoad('service desk `help`', r.desk),
    `desk logging at "${r.logLevel}" (LOG_LEVEL's default): ${(r.log.lines / r.log.turns).toFixed(1)} lines, ${(r.log.bytes / r.log.turns).toFixed(0)} bytes per turn`,
    `help / echo throughput ratio: ${r.ratio.toFixed(2)}  (goal ≥ 0.80)`,
  ].join('\n');
}
