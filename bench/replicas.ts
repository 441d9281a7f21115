import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { rememberConversation } from '../src/store/conversation-references.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { enqueue } from '../src/store/outbox.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { megan, personalMessage, TENANT_ID } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { cpuMsOf, startBot } from './lib/bots.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';

/**
 * Two replicas against one on the same Postgres, in the same run: chat-turn throughput (`show` of a
 * ticket by an agent, through a round-robin "load balancer"), and proactive sends (2,000 cards to 100
 * conversations through a connector enforcing Teams' limits): the combined rate against the tenant's
 * 50/s, 429s, and cards sent twice. Needs a Postgres (BENCH_DATABASE_URL, TEST_DATABASE_URL, or the
 * local one); each run uses a schema of its own.
 */
export async function benchReplicas(options: { durationMs: number; concurrency: number; cards: number; conversations: number }) {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
  } catch (error) {
    return { unavailable: `no Postgres at ${new URL(base).host} (${error instanceof Error ? error.message : String(error)}); set BENCH_DATABASE_URL to measure replicas` };
  }
  await admin.query(`create schema ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}${process.env.BENCH_PG_OPTIONS ? ` ${process.env.BENCH_PG_OPTIONS}` : ''}`);
  const databaseUrl = url.toString();

  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const database = openDatabase({ kind: 'postgres', url: databaseUrl });
  await migrateToLatest(database.db);
  // Sixteen agents, each in their own chat, each with a ticket: the rows a replica writes for one turn
  // are its own, as on a real desk (one hot row would measure lock waits, not replicas).
  const agents = Array.from({ length: options.concurrency }, (_, i) => ({ ...megan, id: `29:agent-${i}`, aadObjectId: `00000000-0000-0000-0000-0000000a${String(i).padStart(4, '0')}`, name: `Agent ${i}` }));
  const env = { DATABASE_URL: databaseUrl, AGENT_IDS: agents.map((a) => a.aadObjectId).join(',') };
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const bodies = agents.map((agent, i) => JSON.stringify(personalMessage(ctx, `show INC-${1001 + i}`, { from: agent })));
  let turn = 0;
  const send = async (url: string, body: string) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
    await response.arrayBuffer();
    return response.status;
  };
  const show = (url: () => string) => () => send(url(), bodies[turn++ % bodies.length]!);

  const a = await startBot('desk', identity, env);
  let b: Awaited<ReturnType<typeof startBot>> | undefined;
  try {
    for (const agent of agents) await send(a.url, JSON.stringify(personalMessage(ctx, `new Printer ${agent.name}`, { from: agent })));
    await runLoad(show(() => a.url), { concurrency: options.concurrency, durationMs: 1_000 });
    // Where one replica's turns spend the machine's CPU: the replica, Postgres, and this process (the
    // load generator, the fake connector the replies go to, the identity provider).
    const before = { replica: a.cpuMs(), postgres: cpuMsOf('postgres'), here: process.cpuUsage() };
    const one = await runLoad(show(() => a.url), options);
    const here = process.cpuUsage(before.here);
    const postgresMs = cpuMsOf('postgres');
    const cpuPerTurn = {
      replica: (a.cpuMs() - before.replica) / one.requests,
      postgres: postgresMs !== undefined && before.postgres !== undefined ? (postgresMs - before.postgres) / one.requests : undefined,
      loadAndFakes: (here.user + here.system) / 1000 / one.requests,
    };
    b = await startBot('desk', identity, env);
    let next = 0;
    const balanced = show(() => (next++ % 2 === 0 ? a.url : b!.url));
    await runLoad(balanced, { concurrency: options.concurrency, durationMs: 1_000 });
    const two = await runLoad(balanced, options);

    // Proactive sends with both replicas running: each keeps to half the tenant budget.
    connector.enforceTeamsLimits = true;
    const refs: number[] = [];
    for (let i = 0; i < options.conversations; i++) {
      const conversationId = `a:replica-${i}`;
      const reference = { conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT_ID }, bot: { id: `28:${BOT_APP_ID}` }, user: { id: `29:user-${i}` }, channelId: 'msteams', serviceUrl: connector.serviceUrl };
      refs.push((await rememberConversation(database.db, { conversationId, kind: 'personal', tenantId: TENANT_ID, teamId: null, userTeamsId: `29:user-${i}`, userAadObjectId: null, serviceUrl: connector.serviceUrl, reference }, Date.now())).id);
    }
    const t0 = Date.now();
    await enqueue(database.db, Array.from({ length: options.cards }, (_, i) => ({ idempotencyKey: `replica-card-${i}`, operation: 'send' as const, conversationRefId: refs[i % refs.length]!, activity: { type: 'message', text: `replica card ${i}` } })), Date.now());
    await connector.waitFor((c) => String(c.activity.text).startsWith('replica card '), { count: options.cards, timeoutMs: 600_000 });
    const elapsed = (Date.now() - t0) / 1000;
    const delivered = connector.delivered('send').filter((c) => String(c.activity.text).startsWith('replica card '));
    const perCard = new Map<string, number>();
    for (const c of delivered) perCard.set(c.activity.text, (perCard.get(c.activity.text) ?? 0) + 1);
    return { one, two, ratio: two.perSecond / one.perSecond, cpuPerTurn, sends: { cards: options.cards, rate: options.cards / elapsed, throttled: connector.throttled.length, doubled: [...perCard.values()].filter((n) => n > 1).length } };
  } finally {
    a.stop();
    b?.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.close();
    await connector.stop();
    await identity.stop();
    await admin.query(`drop schema ${schema} cascade`).catch(() => undefined);
    await admin.end();
  }
}

export function reportReplicas(result: Awaited<ReturnType<typeof benchReplicas>>): string {
  if ('unavailable' in result) return `skipped: ${result.unavailable}`;
  const r = result;
  return [
    formatLoad('one replica `show`', r.one as LoadResult),
    formatLoad('two replicas `show`', r.two as LoadResult),
    `two / one throughput: ${r.ratio.toFixed(2)}×  (goal ≥ 1.7; this machine has ${availableParallelism()} cores shared with Postgres and the load generator)`,
    ceiling(r.cpuPerTurn),
    `proactive: ${r.sends.cards.toLocaleString('en')} cards from two replicas at ${r.sends.rate.toFixed(1)}/s against Teams' 50/s per tenant; 429s: ${r.sends.throttled}; sent twice: ${r.sends.doubled}`,
  ].join('\n');
}

/**
 * What the machine allows: one replica is one Node event loop (at most one core); two can use every
 * core, but each turn also costs Postgres and the load generator CPU on the same cores. With r the
 * replica's CPU per turn and o the rest, one replica does at most 1/r turns/s and two at most
 * cores/(r + o), so the ratio can't pass min(cores, cores·r/(r + o)) / min(1, cores·r/(r + o)).
 */
function ceiling(cpu: { replica: number; postgres: number | undefined; loadAndFakes: number }): string {
  if (cpu.postgres === undefined) return `CPU per turn: replica ${cpu.replica.toFixed(2)} ms, load generator and fakes ${cpu.loadAndFakes.toFixed(2)} ms (Postgres not measurable here)`;
  const cores = availableParallelism();
  const r = cpu.replica;
  const o = cpu.postgres + cpu.loadAndFakes;
  const one = Math.min(1 / r, cores / (r + o));
  const two = Math.min(2 / r, cores / (r + o));
  return `CPU per turn: replica ${r.toFixed(2)} ms, Postgres ${cpu.postgres.toFixed(2)} ms, load generator and fakes ${cpu.loadAndFakes.toFixed(2)} ms → on ${cores} cores two replicas can reach at most ${(two / one).toFixed(2)}× one`;
}
