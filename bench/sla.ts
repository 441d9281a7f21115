import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config.js';
import { startClocks, slaColumns } from '../src/domain/ticket-sla.js';
import { createLogger } from '../src/logger.js';
import { loadSlaPolicy } from '../src/sla-config.js';
import { SlaService } from '../src/services/sla.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { SlaSweeper } from '../src/workers/sla-sweeper.js';
import { median } from './lib/load.js';
import { seedDesk } from './lib/seed.js';

/**
 * A sweep over 100,000 open tickets of which 1,000 are due, against one over 1,000 open tickets that
 * are all due, in the same run: the cost should follow what is due, not what is open (goal: ratio < 1.5).
 * Each database is seeded once; before every sweep its due tickets are made due again and their events
 * forgotten. One warm-up sweep each, then rounds alternating small and large; the ratio is taken within
 * each round and the median round is reported. The sweeper logs at the shipped level, to /dev/null.
 */
export async function benchSweep(options: { open: number; due: number; rounds: number }) {
  const loaded = loadSlaPolicy(undefined);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const policy = loaded.policy;
  const shipped = parseConfig({});
  if (!shipped.ok) throw new Error(shipped.problems.join('; '));
  const logger = createLogger(shipped.config.logLevel, createWriteStream('/dev/null'));
  // A Monday, 16:59 in London: every due ticket is just past its 75% warning.
  const now = Date.parse('2026-11-23T16:59:00Z');
  const subject = { priority: 'P1' as const, tier: 'standard', teamId: null };
  // Due tickets started their 1 h first-response clock 50 minutes ago; the rest just now.
  const dueColumns = slaColumns(policy, subject, startClocks(policy, subject, now - 50 * 60_000), now);
  const laterColumns = slaColumns(policy, subject, startClocks(policy, subject, now), now);
  const values = (c: typeof dueColumns, nextCheck: number | null) => ({
    sla_clocks: JSON.stringify(c.clocks),
    first_response_due_at: c.firstResponseDueAt,
    resolution_due_at: c.resolutionDueAt,
    sla_due_at: c.dueAt,
    next_sla_check_at: nextCheck,
    priority: 'P1' as const,
  });

  const prepare = async (open: number) => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-sla-')), 'desk.db');
    await seedDesk(path, { tickets: open, agents: 50, requesters: 500, allOpen: true });
    const database = openDatabase({ kind: 'sqlite', path });
    await database.db.updateTable('tickets').set(values(laterColumns, laterColumns.nextCheckAt)).execute();
    return database;
  };
  /** Makes the first `due` tickets due again, as if never swept. */
  const reset = async (database: Database) => {
    await database.db.deleteFrom('sla_events').execute();
    await database.db.updateTable('tickets').set(values(dueColumns, now - 60_000)).where('id', '<=', 1000 + options.due).execute();
  };
  const sweep = async (database: Database) => {
    await reset(database);
    const sla = new SlaService({ database, policy, clock: () => now });
    const sweeper = new SlaSweeper({ database, sla, logger, clock: () => now, options: { batchSize: 200 } });
    const t0 = performance.now();
    let swept = 0;
    for (let n = await sweeper.sweepOnce(); n > 0; n = await sweeper.sweepOnce()) swept += n;
    const ms = performance.now() - t0;
    const events = await database.db.selectFrom('sla_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { ms, swept, events: Number(events.n) };
  };

  const smallDb = await prepare(options.due);
  const largeDb = await prepare(options.open);
  try {
    await sweep(smallDb);
    await sweep(largeDb);
    const rounds: Array<{ small: Awaited<ReturnType<typeof sweep>>; large: Awaited<ReturnType<typeof sweep>>; ratio: number }> = [];
    for (let i = 0; i < options.rounds; i++) {
      const small = await sweep(smallDb);
      const large = await sweep(largeDb);
      rounds.push({ small, large, ratio: large.ms / small.ms });
    }
    const middle = rounds.find((r) => r.ratio === median(rounds.map((x) => x.ratio)))!;
    return { ...middle, ratios: rounds.map((r) => r.ratio), smallMs: median(rounds.map((r) => r.small.ms)), largeMs: median(rounds.map((r) => r.large.ms)), options };
  } finally {
    await smallDb.close();
    await largeDb.close();
  }
}

export function reportSweep(r: Awaited<ReturnType<typeof benchSweep>>): string {
  return [
    `after a warm-up sweep each, ${r.options.rounds} rounds; the median round (ratios of all rounds: ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`,
    `sweep, ${r.options.due.toLocaleString('en')} open, all due:      ${r.small.ms.toFixed(0)} ms for ${r.small.swept} tickets, ${r.small.events} events (median of rounds ${r.smallMs.toFixed(0)} ms)`,
    `sweep, ${r.options.open.toLocaleString('en')} open, ${r.options.due.toLocaleString('en')} due: ${r.large.ms.toFixed(0)} ms for ${r.large.swept} tickets, ${r.large.events} events (median of rounds ${r.largeMs.toFixed(0)} ms)`,
    `ratio ${r.ratio.toFixed(2)} (goal < 1.5: cost follows what is due, not what is open)`,
  ].join('\n');
}
