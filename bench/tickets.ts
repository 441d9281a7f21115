import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { listTickets } from '../src/store/tickets.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { personalMessage } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';
import { seedDesk } from './lib/seed.js';
import { startBot } from './lib/bots.js';

/**
 * With 100,000 tickets in SQLite: `show <ref>` and `take <ref>` turns over HTTP with auth on, against
 * the bare echo bot in the same run; and the "my open tickets" query's latency, against a primary-key
 * lookup on the same database.
 */
export async function benchTickets(options: { tickets: number; durationMs: number; concurrency: number; rounds: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tickets-'));
  const path = join(dir, 'desk.db');
  const seeded = await seedDesk(path, { tickets: options.tickets, agents: 50, requesters: 2_000 });

  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const agent = { id: '29:agent-0', aadObjectId: seeded.agentAads[0]!, name: 'Agent 0' };
  const post = (url: string, text: () => string) => async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(personalMessage(ctx, text(), { from: agent })) });
    await response.arrayBuffer();
    return response.status;
  };

  const desk = await startBot('desk', identity, { DATABASE_URL: `sqlite:${path}`, AGENT_IDS: seeded.agentAads.join(',') });
  const echo = await startBot('echo', identity, {});
  const results: Record<string, LoadResult[]> = {};
  /** CPU milliseconds per turn, in the bot and in this process (load generator + fake Teams). */
  const cpu: Record<string, Array<{ bot: number; harness: number }>> = {};
  try {
    const randomRef = () => `show INC-${1001 + Math.floor(Math.random() * options.tickets)}`;
    const pool = [...seeded.unassigned];
    const nextTake = () => `take INC-${pool.pop() ?? 1001}`;
    // Warm every path (JIT, caches, SQLite pages) before measuring; the take warm-up uses its own tickets.
    const warm = { concurrency: options.concurrency, durationMs: 2_000 };
    await runLoad(post(echo.url, () => 'hello'), warm);
    await runLoad(post(desk.url, randomRef), warm);
    await runLoad(post(desk.url, nextTake), warm);
    const measured = async (bot: typeof desk, name: string, send: () => Promise<number>) => {
      const botCpu = bot.cpuMs();
      const ownCpu = process.cpuUsage();
      const result = await runLoad(send, options);
      const own = process.cpuUsage(ownCpu);
      (results[name] ??= []).push(result);
      (cpu[name] ??= []).push({ bot: (bot.cpuMs() - botCpu) / result.requests, harness: (own.user + own.system) / 1000 / result.requests });
    };
    // Rounds of echo, show, take: each ratio is taken within its round, so drift in the machine's load
    // falls on the baseline and the bot alike; the median round is reported.
    for (let round = 0; round < options.rounds; round++) {
      await measured(echo, 'echo', post(echo.url, () => 'hello'));
      await measured(desk, 'show', post(desk.url, randomRef));
      await measured(desk, 'take', post(desk.url, nextTake));
    }
  } finally {
    desk.stop();
    echo.stop();
    await connector.stop();
    await identity.stop();
  }

  // The query behind "my open tickets", on the same 100k-ticket file.
  const database = openDatabase({ kind: 'sqlite', path });
  const time = async (run: () => Promise<unknown>, rounds: number) => {
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await run();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { p50: samples[Math.floor(rounds * 0.5)]!, p99: samples[Math.floor(rounds * 0.99)]! };
  };
  const agentId = () => seeded.agentIds[Math.floor(Math.random() * seeded.agentIds.length)]!;
  await time(() => listTickets(database.db, { assigneeId: agentId(), openOnly: true }, { limit: 11 }), 200);
  const mine = await time(() => listTickets(database.db, { assigneeId: agentId(), openOnly: true }, { limit: 11 }), 2_000);
  const byId = await time(() => database.db.selectFrom('tickets').selectAll().where('id', '=', 1001 + Math.floor(Math.random() * options.tickets)).executeTakeFirst(), 2_000);
  await database.close();

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const ratio = (name: string) => median(results[name]!.map((r, i) => r.perSecond / results.echo![i]!.perSecond));
  const middle = (name: string) => {
    const runs = results[name]!;
    const rate = median(runs.map((r) => r.perSecond));
    return runs.find((r) => r.perSecond === rate)!;
  };
  const cpuOf = (name: string) => ({ bot: median(cpu[name]!.map((c) => c.bot)), harness: median(cpu[name]!.map((c) => c.harness)) });
  return {
    echo: middle('echo'),
    show: middle('show'),
    take: middle('take'),
    showRatio: ratio('show'),
    takeRatio: ratio('take'),
    cpu: { echo: cpuOf('echo'), show: cpuOf('show'), take: cpuOf('take') },
    mine,
    byId,
    tickets: options.tickets,
    rounds: options.rounds,
  };
}

export function reportTickets(r: Awaited<ReturnType<typeof benchTickets>>): string {
  return [
    `${r.tickets.toLocaleString('en')} tickets in SQLite; median of ${r.rounds} rounds`,
    formatLoad('echo bot (baseline)', r.echo),
    formatLoad('`show <ref>`', r.show),
    formatLoad('`take <ref>`', r.take),
    `CPU per turn (bot / load generator + fake Teams): echo ${fmtCpu(r.cpu.echo)}, show ${fmtCpu(r.cpu.show)}, take ${fmtCpu(r.cpu.take)}`,
    `show / echo: ${r.showRatio.toFixed(2)}   take / echo: ${r.takeRatio.toFixed(2)}  (goal ≥ 0.70)`,
    `"my open tickets" query: p50 ${r.mine.p50.toFixed(2)} ms, p99 ${r.mine.p99.toFixed(2)} ms (goal p99 < 5 ms); primary-key lookup p99 ${r.byId.p99.toFixed(2)} ms (ratio ${(r.mine.p99 / r.byId.p99).toFixed(1)}×)`,
  ].join('\n');
}

const fmtCpu = (c: { bot: number; harness: number }) => `${c.bot.toFixed(2)} / ${c.harness.toFixed(2)} ms`;
