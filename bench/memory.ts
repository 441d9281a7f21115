import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClocks, slaColumns } from '../src/domain/ticket-sla.js';
import { parseSlaPolicy } from '../src/sla-config.js';
import { openDatabase } from '../src/store/database.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeGraph } from '../test/fakes/graph.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { personalMessage, type Person } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';
import { startBot } from './lib/bots.js';
import { runLoad } from './lib/load.js';
import { seedDesk } from './lib/seed.js';

const MAILBOX = 'support@contoso.example';
const GRAPH_APP = { id: 'bench-graph-app', secret: 'bench-graph-secret' };

/**
 * Resident memory of the desk, in its own process, holding 100,000 tickets through an hour of a busy
 * desk, compressed: the hour's work is sent as fast as the desk answers while its clock (the one SLAs,
 * reminders and escalations run on) is moved a minute at a time, each minute ending with an SLA sweep
 * and a read of the mailbox. RSS is sampled from /proc every 250 ms; start, peak and end are reported
 * against the goal of 200 MB. The desk runs as compiled JavaScript, as `npm start` runs it. A 24×7 calendar with a 1 h first response on P1 makes SLA checks fall due
 * within the hour whatever the date.
 */
export interface BusyHour {
  agents: number;
  /** Turns each agent sends per minute: show, list, reply and take. */
  turnsPerAgentMinute: number;
  /** New tickets per minute from requesters in chat, and by email. */
  chatPerMinute: number;
  emailPerMinute: number;
  /** Open tickets whose SLA clocks fall due during the hour (the sweeps' work). */
  slaTickets: number;
}

const POLICY = `calendars:
  always: { timeZone: UTC, hours: 24x7 }
defaultCalendar: always
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: 1h, resolution: 4h }
    P2: { firstResponse: 2h, resolution: 8h }
    P3: { firstResponse: 4h, resolution: 24h }
    P4: { firstResponse: 8h, resolution: 72h }
warnings: [75%, 90%]
`;

export async function benchMemory(options: { tickets: number; minutes: number; hour: BusyHour }) {
  const { hour } = options;
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const path = join(dir, 'desk.db');
  const slaPath = join(dir, 'sla.yaml');
  writeFileSync(slaPath, POLICY);
  const parsed = parseSlaPolicy(POLICY, slaPath);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const policy = parsed.policy;
  const seeded = await seedDesk(path, { tickets: options.tickets, agents: 50, requesters: 2_000 });
  const now = Date.now();
  {
    // Open assigned tickets whose P1 first-response clocks started over the last hour: each passes its
    // 75% and 90% warnings and its breach at some minute of the hour to come.
    const database = openDatabase({ kind: 'sqlite', path });
    const ids = (await database.db.selectFrom('tickets').select('id').where('is_open', '=', 1).where('assignee_id', 'is not', null).orderBy('id').limit(hour.slaTickets).execute()).map((r) => r.id);
    const subject = { priority: 'P1' as const, tier: 'standard', teamId: null };
    for (let minute = 0; minute < 60; minute++) {
      const share = ids.filter((_, i) => i % 60 === minute);
      if (share.length === 0) continue;
      const c = slaColumns(policy, subject, startClocks(policy, subject, now - minute * 60_000), now);
      await database.db
        .updateTable('tickets')
        .set({ priority: 'P1', sla_clocks: JSON.stringify(c.clocks), first_response_due_at: c.firstResponseDueAt, resolution_due_at: c.resolutionDueAt, sla_due_at: c.dueAt, next_sla_check_at: c.nextCheckAt })
        .where('id', 'in', share)
        .execute();
    }
    await database.close();
  }

  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
  identity.registerApp(GRAPH_APP.id, GRAPH_APP.secret);
  const connector = await new FakeConnector(identity).start();
  const graph = await new FakeGraph(identity, { mailbox: MAILBOX }).start();
  const ctx = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };
  const authorization = identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl);
  const agents: Person[] = seeded.agentAads.slice(0, hour.agents).map((aad, i) => ({ id: `29:agent-${i}`, aadObjectId: aad, name: `Agent ${i}` }) as Person);
  const requesters: Person[] = Array.from({ length: 200 }, (_, i) => ({ id: `29:requester-${i}`, aadObjectId: `00000000-0000-0000-bbbb-${String(i).padStart(12, '0')}`, name: `Requester ${i}` }) as Person);

  const desk = await startBot(
    'desk',
    identity,
    {
      DATABASE_URL: `sqlite:${path}`,
      AGENT_IDS: seeded.agentAads.join(','),
      SLA_CONFIG: slaPath,
      BENCH_CLOCK: 'manual',
      GRAPH_TENANT_ID: 'contoso',
      GRAPH_CLIENT_ID: GRAPH_APP.id,
      GRAPH_CLIENT_SECRET: GRAPH_APP.secret,
      SUPPORT_MAILBOX: MAILBOX,
      GRAPH_BASE_URL: graph.baseUrl,
      AZURE_AUTHORITY_HOST: identity.authorityHost,
      // The bench reads the mailbox once a simulated minute; the loop's own poll would be real time.
      GRAPH_POLL_INTERVAL: '1h',
    },
    ['--expose-gc'],
    { ipc: true, compiled: true },
  );
  const samples: Array<{ total: number; anon: number; file: number }> = [];
  const sample = () => samples.push(desk.rss());
  const sampler = setInterval(sample, 250);
  const ops = { show: 0, list: 0, reply: 0, take: 0, new: 0, email: 0, errors: 0, swept: 0 };
  const t0 = performance.now();
  try {
    sample();
    const start = samples[0]!;
    let heap = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
    /** RSS and V8 heap in use after each simulated minute: a plateau or a climb. */
    const byMinute: Array<{ rss: number; heapUsed: number }> = [];
    const pool = [...seeded.unassigned];
    const post = async (from: Person, text: string) => {
      const response = await fetch(desk.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(personalMessage(ctx, text, { from })) });
      await response.arrayBuffer();
      if (response.status < 200 || response.status >= 300) ops.errors += 1;
      return response.status;
    };
    const randomRef = () => 1001 + Math.floor(Math.random() * options.tickets);
    /** One agent's turn: 40% show, 25% "my tickets", 20% reply, 15% take. */
    const agentTurn = (agent: Person) => {
      const dice = Math.random();
      if (dice < 0.4) return (ops.show++, post(agent, `show INC-${randomRef()}`));
      if (dice < 0.65) return (ops.list++, post(agent, 'my tickets'));
      if (dice < 0.85) return (ops.reply++, post(agent, `reply INC-${randomRef()} Thanks, we are looking into it and will update you within the hour.`));
      return (ops.take++, post(agent, `take INC-${pool.pop() ?? randomRef()}`));
    };
    let emails = 0;
    for (let minute = 0; minute < options.minutes; minute++) {
      for (let i = 0; i < hour.emailPerMinute; i++, emails++) {
        graph.deliverMessage({
          id: `AAMkbench${emails}`,
          internetMessageId: `<bench${emails}@fabrikam.example>`,
          conversationId: `AAQkbench${emails}`,
          subject: `Problem ${emails}: the VPN drops`,
          from: { emailAddress: { name: `Customer ${emails}`, address: `customer${emails}@fabrikam.example` } },
          toRecipients: [{ emailAddress: { name: 'Support', address: MAILBOX } }],
          ccRecipients: [],
          receivedDateTime: new Date().toISOString(),
          body: { contentType: 'html', content: `<html><body><p>Hello,</p><p>Since this morning the VPN drops every ${emails % 60} minutes &amp; I lose my work.</p><p>Thanks,<br>Customer ${emails}</p></body></html>` },
          hasAttachments: false,
          internetMessageHeaders: [{ name: 'Message-ID', value: `<bench${emails}@fabrikam.example>` }],
        });
        ops.email += 1;
      }
      // Each agent works through their turns for the minute, one at a time; requesters open tickets meanwhile.
      const left = agents.map(() => hour.turnsPerAgentMinute);
      await Promise.all([
        runUntilDone(agents.length, async (worker) => {
          if (left[worker]! <= 0) return false;
          left[worker]! -= 1;
          await agentTurn(agents[worker]!);
          return true;
        }),
        (async () => {
          for (let i = 0; i < hour.chatPerMinute; i++) {
            ops.new += 1;
            await post(requesters[(minute * hour.chatPerMinute + i) % requesters.length]!, `new Printer on floor ${i + 1} jams on every page`);
          }
        })(),
      ]);
      const tick = await desk.ask<{ swept: number; memory: typeof heap }>({ advanceMs: 60_000 });
      ops.swept += tick.swept;
      heap = tick.memory;
      byMinute.push({ rss: desk.rss().total, heapUsed: heap.heapUsed });
    }
    sample();
    const wallMs = performance.now() - t0;
    // Only now, so the collection does not change what was sampled: what of the heap is still alive.
    const live = (await desk.ask<{ memory: typeof heap }>({ gc: true })).memory;
    const afterGc = desk.rss();
    const database = openDatabase({ kind: 'sqlite', path });
    const count = async (table: 'tickets' | 'sla_events' | 'mail_messages') => Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const held = { tickets: await count('tickets'), slaEvents: await count('sla_events'), mails: await count('mail_messages') };
    await database.close();
    const peak = samples.reduce((a, b) => (b.total > a.total ? b : a));
    return { start, peak, end: samples[samples.length - 1]!, heap, live, afterGc, byMinute, samples: samples.length, ops, wallMs, held, dbBytes: statSync(path).size, options };
  } finally {
    clearInterval(sampler);
    desk.stop();
    await graph.stop();
    await connector.stop();
    await identity.stop();
  }
}

/** `workers` loops, each calling `step` until it says it is done. */
async function runUntilDone(workers: number, step: (worker: number) => Promise<boolean>) {
  await Promise.all(Array.from({ length: workers }, async (_, worker) => {
    while (await step(worker));
  }));
}

export function reportMemory(r: Awaited<ReturnType<typeof benchMemory>>): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const split = (s: { total: number; anon: number; file: number }) => `${mb(s.total)} (heap and other private ${mb(s.anon)}, mapped files ${mb(s.file)})`;
  const { hour } = r.options;
  const turns = r.ops.show + r.ops.list + r.ops.reply + r.ops.take + r.ops.new;
  return [
    `an hour of a busy desk, compressed: ${hour.agents} agents each sending a turn every ${(60 / hour.turnsPerAgentMinute).toFixed(0)} s, ${hour.chatPerMinute} new tickets a minute in chat and ${hour.emailPerMinute} by email, the desk's clock moved ${r.options.minutes} × 1 minute with an SLA sweep and a mailbox read each`,
    `= ${turns.toLocaleString('en')} turns (show ${r.ops.show}, my tickets ${r.ops.list}, reply ${r.ops.reply}, take ${r.ops.take}, new ${r.ops.new}; ${r.ops.errors} errors), ${r.ops.email} emails, ${r.ops.swept.toLocaleString('en')} SLA checks in ${(r.wallMs / 1000).toFixed(0)} s of wall time`,
    `the desk then held ${r.held.tickets.toLocaleString('en')} tickets (${(r.dbBytes / 1024 / 1024).toFixed(0)} MB SQLite file), ${r.held.mails} mail rows (in and out), ${r.held.slaEvents.toLocaleString('en')} SLA events`,
    `RSS of the desk's process (${r.samples} samples): start ${split(r.start)}`,
    `  peak ${split(r.peak)}`,
    `  end  ${split(r.end)}; V8 heap ${mb(r.heap.heapUsed)} used of ${mb(r.heap.heapTotal)}, external ${mb(r.heap.external)} (after the last minute)`,
    `after minute ${r.byMinute.map((m, i) => ({ ...m, minute: i + 1 })).filter((m) => m.minute === 1 || m.minute % 10 === 0 || m.minute === r.byMinute.length).map((m) => `${m.minute}: ${mb(m.rss)} (heap ${mb(m.heapUsed)})`).join(', ')}`,
    `after a full garbage collection at the end: RSS ${split(r.afterGc)}, V8 heap ${mb(r.live.heapUsed)} alive`,
    `peak / goal: ${mb(r.peak.total)} / 200 MB = ${((r.peak.total / (200 * 1024 * 1024)) * 100).toFixed(0)}% (goal < 100%)`,
  ].join('\n');
}
