import { randomBytes } from 'node:crypto';
import type { TicketType } from '../src/domain/ticket-reference.js';
import type { Priority } from '../src/domain/tickets.js';
import { parseNotifyConfig, type NotifyConfig } from '../src/notify-config.js';
import type { ChangeContext } from '../src/services/ticket-change.js';
import { contactByEmail, findPerson, type Person } from '../src/store/people.js';
import { FakePagerDuty } from '../test/fakes/pagerduty.js';
import { FakeSlack } from '../test/fakes/slack.js';
import { FakeWebhookReceiver } from '../test/fakes/webhook-receiver.js';
import { startHarness, type Harness } from '../test/support/harness.js';
import { median } from './lib/load.js';

/**
 * Ticket events leaving the desk: 200 tickets × 4 changes (opened, taken, public reply, resolved)
 * made through TicketService, 5 events each (taking a new ticket also opens it: ticket.assigned and
 * ticket.status_changed), so the real change path records each event in its
 * transaction, with rules sending every event to 3 webhooks, PagerDuty and Slack (loopback fakes).
 *
 * (a) Delivery: each target gets each event once, within its limits (PagerDuty 120 events a minute per
 *     routing key, Slack one message a second per channel), and how long the queue took to drain.
 *     At those limits one routing key would need 8 minutes for 1,000 events and one channel 17, so
 *     the rules spread tickets by priority × type over 8 PagerDuty routing keys and 8 Slack channels
 *     (as a desk with a service and a channel per queue would): 125 events per key and per channel.
 * (b) CPU per ticket change (process.cpuUsage) with these rules against the same changes with no
 *     NOTIFY_CONFIG, the delivery worker stopped so only the recording in the transaction is measured;
 *     in rounds, each with its own baseline, the median ratio reported. The delivery's own CPU (worker,
 *     and the fakes, which share this process) is reported per delivery from run (a).
 */

const PRIORITIES: Priority[] = ['P1', 'P2', 'P3', 'P4'];
const TYPES: TicketType[] = ['incident', 'request'];
const LANES = PRIORITIES.flatMap((priority) => TYPES.map((type) => ({ priority, type, key: `${priority.toLowerCase()}-${type}` })));
const WEBHOOKS = ['automation', 'archive', 'analytics'];
const CHANGES_PER_TICKET = 4;
const EVENTS_PER_TICKET = 5;

interface Fakes {
  webhooks: Map<string, FakeWebhookReceiver>;
  secrets: Map<string, string>;
  pagerDuty: FakePagerDuty;
  routingKeys: Map<string, string>;
  slack: FakeSlack;
  channels: Map<string, string>;
}

async function startFakes(): Promise<Fakes> {
  const secrets = new Map(WEBHOOKS.map((name) => [name, `whsec_${randomBytes(32).toString('base64')}`]));
  const webhooks = new Map(await Promise.all(WEBHOOKS.map(async (name) => [name, await new FakeWebhookReceiver([secrets.get(name)!]).start()] as const)));
  const routingKeys = new Map(LANES.map((lane, i) => [lane.key, `R0BENCH${String(i).padStart(25, '0')}`]));
  const pagerDuty = await new FakePagerDuty(...routingKeys.values()).start();
  const channels = new Map(LANES.map((lane, i) => [lane.key, `C0BENCH${i}`]));
  const slack = await new FakeSlack(undefined, [...channels.values()]).start();
  return { webhooks, secrets, pagerDuty, routingKeys, slack, channels };
}

function rules(f: Fakes): { config: NotifyConfig; env: Record<string, string> } {
  const env: Record<string, string> = { SLACK_BOT_TOKEN: f.slack.token };
  const lines = ['integrations:'];
  for (const [name, receiver] of f.webhooks) {
    env[`${name.toUpperCase()}_SECRETS`] = f.secrets.get(name)!;
    lines.push(`  ${name}: { type: webhook, url: '${receiver.url(`/${name}`)}', secretEnv: ${name.toUpperCase()}_SECRETS, allowLoopback: true }`);
  }
  for (const lane of LANES) {
    const variable = `PD_KEY_${lane.key.toUpperCase().replace('-', '_')}`;
    env[variable] = f.routingKeys.get(lane.key)!;
    lines.push(`  pd-${lane.key}: { type: pagerduty, routingKeyEnv: ${variable}, eventsUrl: '${f.pagerDuty.eventsUrl}' }`);
    lines.push(`  slack-${lane.key}: { type: slack, channel: ${f.channels.get(lane.key)} }`);
  }
  lines.push('rules:', `  - { name: every event to the webhooks, events: ['*'], notify: [${WEBHOOKS.join(', ')}] }`);
  for (const lane of LANES) lines.push(`  - { name: ${lane.key} queue, events: ['*'], when: { priority: [${lane.priority}], type: [${lane.type}] }, notify: [pd-${lane.key}, slack-${lane.key}] }`);
  const parsed = parseNotifyConfig(lines.join('\n'), 'bench-notify.yaml', env);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return { config: parsed.config, env };
}

/** A desk with one agent and `tickets` requesters; the rules (and Slack) only when given. */
async function startDesk(f: Fakes, withRules: boolean, deliver: boolean): Promise<Harness> {
  const r = withRules ? rules(f) : undefined;
  const h = await startHarness({
    auth: false,
    env: r ? { SLACK_BOT_TOKEN: f.slack.token, SLACK_SIGNING_SECRET: 'bench-signing-secret', SLACK_API_URL: f.slack.apiUrl } : {},
    service: {
      ...(r ? { notify: r.config } : {}),
      // Default pacing and backoff (the bench has no faults); a short poll so the drain time is the targets', not the poll's.
      events: { pollIntervalMs: 100 },
    },
  });
  // Recording only: the rows are written but nobody sends them.
  if (!deliver) await h.service.events.worker.stop();
  return h;
}

/** 4 changes to each of `count` tickets through TicketService, one step at a time across all tickets. */
async function workTheDesk(h: Harness, count: number, prefix: string): Promise<{ changes: number; cpuMs: number; wallMs: number }> {
  const db = h.service.database.db;
  const now = Date.now();
  const agentRow = await contactByEmail(db, { email: `${prefix}-agent@contoso.example`, name: 'Bench Agent' }, now);
  await db.updateTable('people').set({ role: 'agent' }).where('id', '=', agentRow.id).execute();
  const agent: ChangeContext = { actor: { person: (await findPerson(db, agentRow.id))!, role: 'agent' }, surface: 'chat' };
  const requesters: Person[] = [];
  for (let i = 0; i < count; i++) requesters.push(await contactByEmail(db, { email: `${prefix}-r${i}@customer.example`, name: `Requester ${i}` }, now));
  const ok = <T>(result: { ok: true; value: T } | { ok: false; reason: string }): T => {
    if (!result.ok) throw new Error(`a change was refused: ${result.reason}`);
    return result.value;
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const lane = LANES[i % LANES.length]!;
    const ticket = ok(await h.service.tickets.create({ actor: { person: requesters[i]!, role: 'requester' }, surface: 'chat' }, { type: lane.type, subject: `Bench ticket ${i}`, description: 'The VPN drops every hour', priority: lane.priority, teamId: null, source: 'chat', postTo: [] }));
    ids.push(ticket.id);
  }
  for (const id of ids) ok(await h.service.tickets.take(agent, id));
  for (const id of ids) ok(await h.service.tickets.comment(agent, id, 'We are looking at it.', 'public'));
  for (const id of ids) ok(await h.service.tickets.changeStatus(agent, id, 'resolved', 'rolled the rule back'));
  const used = process.cpuUsage(cpu0);
  return { changes: count * CHANGES_PER_TICKET, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0 };
}

/** The most of `times` (ms) inside any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export async function benchNotify(options: { tickets: number; rounds: number }) {
  const events = options.tickets * EVENTS_PER_TICKET;

  // (b) Recording cost: rules against none, in rounds, each on a fresh desk.
  const cpu: Array<{ none: number; rules: number }> = [];
  for (let round = -1; round < options.rounds; round++) {
    const perChange: Record<'none' | 'rules', number> = { none: 0, rules: 0 };
    for (const kind of round % 2 === 0 ? (['none', 'rules'] as const) : (['rules', 'none'] as const)) {
      const fakes = await startFakes();
      const h = await startDesk(fakes, kind === 'rules', false);
      try {
        const worked = await workTheDesk(h, options.tickets, `${kind}${round}`);
        perChange[kind] = worked.cpuMs / worked.changes;
        if (kind === 'rules') {
          const rows = await h.service.database.db.selectFrom('event_deliveries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
          if (Number(rows.n) !== events * (WEBHOOKS.length + 2)) throw new Error(`expected ${events * (WEBHOOKS.length + 2)} delivery rows, found ${String(rows.n)}`);
        }
      } finally {
        await h.stop();
        await stopFakes(fakes);
      }
    }
    // Round -1 warms the JIT and the SQLite code paths; it is not reported.
    if (round >= 0) cpu.push(perChange);
  }

  // (a) Delivery: the same work with the worker running, until nothing is pending.
  const fakes = await startFakes();
  const h = await startDesk(fakes, true, true);
  try {
    const db = h.service.database.db;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const worked = await workTheDesk(h, options.tickets, 'deliver');
    const changesDoneMs = Date.now() - t0;
    for (;;) {
      const left = await db.selectFrom('event_deliveries').select((eb) => eb.fn.countAll().as('n')).where('status', '!=', 'sent').executeTakeFirstOrThrow();
      if (Number(left.n) === 0) break;
      if (Date.now() - t0 > 600_000) throw new Error(`${String(left.n)} deliveries still not sent after 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const drainedMs = Date.now() - t0;
    const used = process.cpuUsage(cpu0);
    const rows = await db.selectFrom('event_deliveries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();

    const webhooks = [...fakes.webhooks].map(([name, r]) => ({ name, total: r.verified.length, distinct: new Set(r.verified.map((v) => v.id)).size, lastAt: Math.max(...r.arrivals.map((a) => a.at)) - t0 }));
    const accepted = fakes.pagerDuty.requests.filter((r) => r.status === 202);
    const pdByKey = LANES.map((lane) => accepted.filter((r) => r.body?.routing_key === fakes.routingKeys.get(lane.key)).map((r) => r.at));
    const alerts = [...new Set(accepted.map((r) => `${String(r.body?.routing_key)}\n${String(r.body?.dedup_key)}`))].map((id) => {
      const [routingKey, dedupKey] = id.split('\n');
      return fakes.pagerDuty.alert(dedupKey!, routingKey)!;
    });
    const slackPosts = fakes.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200);
    const perChannel = [...fakes.channels.values()].map((channel) => slackPosts.filter((c) => c.key?.startsWith(`chat.postMessage ${channel} `)).map((c) => c.at));
    const topLevel = fakes.slack.posts();
    const perTicketPosts = new Map<string, number>();
    for (const m of topLevel) {
      const reference = /^(\S+)/.exec(m.text)![1]!;
      perTicketPosts.set(reference, (perTicketPosts.get(reference) ?? 0) + 1);
    }
    return {
      tickets: options.tickets,
      events,
      rows: Number(rows.n),
      changesDoneMs,
      drainedMs,
      deliveryCpuMsPerDelivery: ((used.user + used.system) / 1000 - worked.cpuMs) / Number(rows.n),
      webhooks,
      pagerDuty: {
        keys: LANES.length,
        accepted: accepted.length,
        expected: options.tickets * EVENTS_PER_TICKET,
        throttled: fakes.pagerDuty.requests.filter((r) => r.status === 429).length,
        maxPerMinute: Math.max(...pdByKey.map((times) => maxInWindow(times, 60_000))),
        lastAt: Math.max(...accepted.map((r) => r.at)) - t0,
        alerts: alerts.length,
        alertsRight: alerts.filter((a) => a.status === 'resolved' && a.incidents === 1 && a.triggers === 3 && a.acknowledges === 1 && a.resolves === 1 && a.dropped === 0).length,
      },
      slack: {
        channels: fakes.channels.size,
        posts: slackPosts.length,
        topLevel: topLevel.length,
        ticketsPostedOnce: [...perTicketPosts.values()].filter((n) => n === 1).length,
        replies: fakes.slack.messages.length - topLevel.length,
        showResolved: topLevel.filter((m) => JSON.stringify(m.blocks).includes('*Status*\\nResolved')).length,
        throttled: fakes.slack.calls.filter((c) => c.status === 429).length,
        maxPerSecond: Math.max(...perChannel.map((times) => maxInWindow(times, 1_000))),
        lastAt: Math.max(...fakes.slack.calls.map((c) => c.at)) - t0,
      },
      cpu: {
        none: median(cpu.map((c) => c.none)),
        rules: median(cpu.map((c) => c.rules)),
        ratio: median(cpu.map((c) => c.rules / c.none)),
        rounds: cpu.map((c) => c.rules / c.none),
      },
    };
  } finally {
    await h.stop();
    await stopFakes(fakes);
  }
}

async function stopFakes(f: Fakes): Promise<void> {
  await Promise.all([...[...f.webhooks.values()].map((r) => r.stop()), f.pagerDuty.stop(), f.slack.stop()]);
}

export function reportNotify(r: Awaited<ReturnType<typeof benchNotify>>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const { pagerDuty: pd, slack } = r;
  return [
    `${r.events.toLocaleString('en')} ticket events (${r.tickets} tickets × ${CHANGES_PER_TICKET} changes through TicketService, ${EVENTS_PER_TICKET} events each) → ${r.rows.toLocaleString('en')} deliveries to 3 webhooks, PagerDuty (${pd.keys} routing keys) and Slack (${slack.channels} channels)`,
    `changes made in ${s(r.changesDoneMs)}; queue drained ${s(r.drainedMs)} after the first change (webhooks done at ${s(Math.max(...r.webhooks.map((w) => w.lastAt)))}, PagerDuty at ${s(pd.lastAt)}, Slack at ${s(slack.lastAt)})`,
    `webhooks: ${r.webhooks.map((w) => `${w.name} ${w.total} received / ${w.distinct} distinct`).join('; ')} (each of ${r.events} once: ${r.webhooks.every((w) => w.total === r.events && w.distinct === r.events) ? 'yes' : 'NO'})`,
    `PagerDuty: ${pd.accepted} events accepted of ${pd.expected} (3 triggers, 1 acknowledge, 1 resolve per ticket); ${pd.alertsRight} of ${pd.alerts} alerts resolved with exactly that history; max ${pd.maxPerMinute} per key in any 60 s (limit 120; we keep to 110); 429s: ${pd.throttled}`,
    `Slack: ${slack.posts} chat.postMessage (${slack.topLevel} ticket messages, ${slack.ticketsPostedOnce} tickets posted exactly once; ${slack.replies} thread replies); ${slack.showResolved} messages show Resolved; max ${slack.maxPerSecond} post per channel in any 1 s (limit 1); 429s: ${slack.throttled}`,
    `CPU per ticket change, recording only: ${r.cpu.rules.toFixed(2)} ms with the rules against ${r.cpu.none.toFixed(2)} ms with no NOTIFY_CONFIG = ${r.cpu.ratio.toFixed(2)}× (median of ${r.cpu.rounds.length} rounds: ${r.cpu.rounds.map((x) => x.toFixed(2)).join(', ')})`,
    `delivery CPU (worker, and the fakes in this process): ${r.deliveryCpuMsPerDelivery.toFixed(2)} ms per delivery`,
  ].join('\n');
}
