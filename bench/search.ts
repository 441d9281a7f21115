import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { invoke, personalMessage, type Person } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { formatLoad, median, runLoad, type LoadResult } from './lib/load.js';
import { giveRealisticText, SEARCH_WORDS } from './lib/search-corpus.js';
import { seedDesk } from './lib/seed.js';

/**
 * The compose box's ticket search over 100,000 tickets in SQLite, end to end: `composeExtension/query`
 * invokes over HTTP with a real channel token, answered by the desk in its own process with up to 25
 * results each (requester-view cards with previews). The baseline, in the same run and on the same
 * database, is a primary-key ticket lookup turn (`show INC-n`) from the same agents. Queries are what
 * people type: references, numbers, words of subjects and their first letters, requester names, a
 * status, two words, and the empty first run; half from agents (the whole desk), half from requesters
 * (their own tickets). One query at a time (the latency a person typing sees), then 4 in flight; each
 * round runs the baseline then the search, and the median round of each is reported, with the bot's
 * CPU per request (which the machine's other work changes far less than latency).
 */
export async function benchSearch(options: { tickets: number; durationMs: number; concurrency: number; rounds: number }) {
  const loads = [{ name: 'one person', concurrency: 1 }, { name: `${options.concurrency} in flight`, concurrency: options.concurrency }];
  const dir = mkdtempSync(join(tmpdir(), 'bench-search-'));
  const path = join(dir, 'desk.db');
  const seeded = await seedDesk(path, { tickets: options.tickets, agents: 20, requesters: 2_000, unassignedEvery: 10 });
  const { requesterNames } = await giveRealisticText(path);

  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  const connector = await new FakeConnector(identity).start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const agents: Person[] = seeded.agentAads.map((aad, i) => ({ id: `29:agent-${i}`, aadObjectId: aad, name: `Agent ${i}` }));
  const requesters: Person[] = requesterNames.map((name, i) => ({ id: `29:requester-${i}`, aadObjectId: `00000000-0000-0000-bbbb-${String(i).padStart(12, '0')}`, name }));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const someRef = () => 1001 + Math.floor(Math.random() * options.tickets);

  /** What someone types into the compose box, in proportions a desk might see. */
  const typed = (): string => {
    const roll = Math.random();
    if (roll < 0.15) return `INC-${someRef()}`;
    if (roll < 0.25) return String(someRef()).slice(0, 3 + Math.floor(Math.random() * 3));
    if (roll < 0.45) return pick(SEARCH_WORDS);
    if (roll < 0.55) return pick(SEARCH_WORDS).slice(0, 3);
    if (roll < 0.7) return `${pick(SEARCH_WORDS)} ${pick(SEARCH_WORDS)}`;
    if (roll < 0.8) return pick(requesterNames).split(' ').slice(0, 2).join(' ');
    if (roll < 0.9) return pick(['open', 'pending', 'resolved', 'on hold']);
    return '';
  };
  const searchBody = (worker: number) => {
    const from = worker % 2 === 0 ? pick(agents) : pick(requesters);
    const text = typed();
    return JSON.stringify(
      invoke(ctx, 'composeExtension/query', {
        commandId: 'searchTickets',
        parameters: [text === '' ? { name: 'initialRun', value: 'true' } : { name: 'searchQuery', value: text }],
        queryOptions: { skip: 0, count: 25 },
      }, from),
    );
  };
  const stats = { results: 0, answers: 0, bytes: 0 };
  const post = (url: string, body: (worker: number) => string, count = false) => async (worker: number) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: body(worker) });
    const text = await response.text();
    if (count && response.status === 200) {
      stats.answers += 1;
      stats.bytes += text.length;
      stats.results += (JSON.parse(text) as { composeExtension?: { attachments?: unknown[] } }).composeExtension?.attachments?.length ?? 0;
    }
    return response.status;
  };

  const desk = await startBot('desk', identity, { DATABASE_URL: `sqlite:${path}`, AGENT_IDS: seeded.agentAads.join(',') });
  const show = post(desk.url, () => JSON.stringify(personalMessage(ctx, `show INC-${someRef()}`, { from: pick(agents) })));
  const search = post(desk.url, searchBody, true);
  const rounds: Record<string, Array<{ show: LoadResult; search: LoadResult; cpu: { show: number; search: number } }>> = {};
  /** The bot's CPU milliseconds per request under `load`: what the machine's other work does not change. */
  const withCpu = async (load: (worker: number) => Promise<number>, concurrency: number) => {
    const before = desk.cpuMs();
    const result = await runLoad(load, { concurrency, durationMs: options.durationMs });
    return { result, cpu: (desk.cpuMs() - before) / result.requests };
  };
  try {
    // Every agent and a few hundred requesters seen once (their first turn writes who they are), then
    // warm JIT, statement caches and SQLite pages on both paths.
    for (const person of [...agents, ...requesters.slice(0, 200)]) {
      await fetch(desk.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(personalMessage(ctx, 'help', { from: person })) });
    }
    await runLoad(show, { concurrency: options.concurrency, durationMs: 1_500 });
    await runLoad(search, { concurrency: options.concurrency, durationMs: 1_500 });
    Object.assign(stats, { results: 0, answers: 0, bytes: 0 });
    // Someone typing (one query at a time: the latency a person sees), then several people at once.
    for (let round = 0; round < options.rounds; round++) {
      for (const load of loads) {
        const baseline = await withCpu(show, load.concurrency);
        const measured = await withCpu(search, load.concurrency);
        (rounds[load.name] ??= []).push({ show: baseline.result, search: measured.result, cpu: { show: baseline.cpu, search: measured.cpu } });
      }
    }
  } finally {
    desk.stop();
    await connector.stop();
    await identity.stop();
  }
  const medianRound = (name: string) => {
    const p99s = rounds[name]!.map((r) => r.search.p99);
    return { name, ...rounds[name]!.find((r) => r.search.p99 === median(p99s))!, p99s };
  };
  return { loads: loads.map((l) => medianRound(l.name)), stats, options };
}

export function reportSearch(r: Awaited<ReturnType<typeof benchSearch>>): string {
  const person = r.loads[0]!;
  const ok = person.search.p99 < 50 && r.loads.every((l) => l.search.errors === 0);
  if (!ok) process.exitCode = 1;
  const lines = [
    `${r.options.tickets.toLocaleString('en')} tickets in SQLite; ${r.options.rounds} rounds of ${r.options.durationMs / 1000} s per load; for each load the round with the median search p99`,
  ];
  for (const l of r.loads) {
    lines.push(
      `${l.name} (search p99 of every round: ${l.p99s.map((x) => x.toFixed(1)).join(', ')} ms):`,
      formatLoad('  `show INC-n` (baseline)', l.show),
      formatLoad('  composeExtension/query', l.search),
      `  search / baseline: p50 ${(l.search.p50 / l.show.p50).toFixed(2)}×, p99 ${(l.search.p99 / l.show.p99).toFixed(2)}×; bot CPU per request: show ${l.cpu.show.toFixed(2)} ms, search ${l.cpu.search.toFixed(2)} ms`,
    );
  }
  lines.push(
    `${(r.stats.results / Math.max(1, r.stats.answers)).toFixed(1)} results and ${(r.stats.bytes / Math.max(1, r.stats.answers) / 1024).toFixed(1)} KiB per search answer`,
    `search p99, one person typing: ${person.search.p99.toFixed(1)} ms (goal < 50 ms)${ok ? '' : '  FAILED'}`,
  );
  return lines.join('\n');
}
