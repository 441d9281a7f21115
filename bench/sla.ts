import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startClocks, slaColumns } from '../src/domain/ticket-sla.js';
import { loadSlaPolicy } from '../src/sla-config.js';
import { SlaService } from '../src/services/sla.js';
import { openDatabase } from '../src/store/database.js';
import { SlaSweeper } from '../src/workers/sla-sweeper.js';
import { seedDesk } from './lib/seed.js';

/**
 * One sweep over 100,000 open tickets of which 1,000 are due, against one over 1,000 open tickets that
 * are all due, in the same run: the cost should follow what is due, not what is open (goal: ratio < 1.5).
 */
export async function benchSweep(options: { open: number; due: number }) {
  const loaded = loadSlaPolicy(undefined);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const policy = loaded.policy;
  // A Monday, 16:59 in London: every due ticket is just past its 75% warning.
  const now = Date.parse('2026-11-23T16:59:00Z');

  const prepare = async (open: number, due: number) => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-sla-')), 'desk.db');
    await seedDesk(path, { tickets: open, agents: 50, requesters: 500, allOpen: true });
    const database = openDatabase({ kind: 'sqlite', path });
    const db = database.db;
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
    await db.updateTable('tickets').set(values(laterColumns, laterColumns.nextCheckAt)).execute();
    await db.updateTable('tickets').set(values(dueColumns, now - 60_000)).where('id', '<=', 1000 + due).execute();
    return database;
  };

  const time = async (open: number, due: number) => {
    const database = await prepare(open, due);
    const sla = new SlaService({ database, policy, clock: () => now });
    const sweeper = new SlaSweeper({ database, sla, logger: pino({ level: 'silent' }), clock: () => now, options: { batchSize: 200 } });
    const t0 = performance.now();
    let swept = 0;
    for (let n = await sweeper.sweepOnce(); n > 0; n = await sweeper.sweepOnce()) swept += n;
    const ms = performance.now() - t0;
    const events = await database.db.selectFrom('sla_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await database.close();
    return { ms, swept, events: Number(events.n) };
  };

  const small = await time(options.due, options.due);
  const large = await time(options.open, options.due);
  return { small, large, ratio: large.ms / small.ms, options };
}

export function reportSweep(r: Awaited<ReturnType<typeof benchSweep>>): string {
  return [
    `sweep, ${r.options.due.toLocaleString('en')} open, all due:      ${r.small.ms.toFixed(0)} ms for ${r.small.swept} tickets, ${r.small.events} events`,
    `sweep, ${r.options.open.toLocaleString('en')} open, ${r.options.due.toLocaleString('en')} due: ${r.large.ms.toFixed(0)} ms for ${r.large.swept} tickets, ${r.large.events} events`,
    `ratio ${r.ratio.toFixed(2)} (goal < 1.5: cost follows what is due, not what is open)`,
  ].join('\n');
}
