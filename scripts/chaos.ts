import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { parseDatabaseUrl } from '../src/config.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { FakeConnector } from '../test/fakes/connector.js';
import { FakeGraph } from '../test/fakes/graph.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { composeEml } from '../test/fakes/mail-message.js';
import { testCaPath } from '../test/fakes/tls.js';
import { megan, personalConversationId, personalInstall, personalMessage, somebody } from '../test/support/activities.js';
import { BOT_APP_ID, BOT_PASSWORD } from '../test/support/identity.js';

/**
 * `npm run chaos [-- --kills 20 --replicas 2]`: runs the built service (dist/) under a steady load of
 * chat turns, incoming email and due reminders, kills it with SIGKILL at random moments (one replica
 * at a time when there are several, on the Postgres of DATABASE_URL), restarts it, and once the load
 * stops checks the totals: every accepted email and chat turn is exactly one ticket, every due
 * reminder went out once, no outbox row is stuck, no ticket is half-written.
 *
 * With several replicas it also times each failover: from the killed replica's last heartbeat to a
 * survivor taking over the work it held (SLA checks, due reminders, Teams and mail outbox leases, the
 * mailbox cursor), and waits for that before the next kill. What a replica happens to hold at a random
 * moment is often nothing, so just before each kill the victim is also given one claimed SLA check and
 * one leased Teams message, written as its own claims would be.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const kills = option('kills', 20);
const replicas = option('replicas', 1);
const seed = option('seed', 1);
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const databaseUrl = replicas > 1 ? process.env.DATABASE_URL : `sqlite:${join(mkdtempSync(join(tmpdir(), 'chaos-')), 'desk.db')}`;
if (!databaseUrl || (replicas > 1 && !databaseUrl.startsWith('postgres'))) {
  process.stderr.write('Several replicas need a shared Postgres: set DATABASE_URL=postgres://… (e.g. postgres://postgres@127.0.0.1:5432/test).\n');
  process.exit(1);
}
if (!existsSync(join(root, 'dist/src/main.js'))) {
  process.stderr.write('Build first: npm run build\n');
  process.exit(1);
}

const identity = await new FakeIdentityProvider().start();
identity.registerApp(BOT_APP_ID, BOT_PASSWORD);
identity.registerApp('chaos-graph', 'chaos-graph-secret');
const connector = await new FakeConnector(identity).start();
const graph = await new FakeGraph(identity).start();
const ports = Array.from({ length: replicas }, (_, i) => 39_700 + i);
const children: Array<ChildProcess | undefined> = ports.map(() => undefined);
// A failed run leaves no replica behind.
process.on('exit', () => {
  for (const child of children) if (child && child.exitCode === null) child.kill('SIGKILL');
});

const replicaIds: Array<string | undefined> = ports.map(() => undefined);
const knownReplicas = new Set<string>();

async function start(i: number): Promise<void> {
  const child = spawn(process.execPath, ['--disable-warning=DEP0111', 'dist/src/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: testCaPath,
      PORT: String(ports[i]),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'error',
      SHUTDOWN_TIMEOUT_MS: '3000',
      BOT_ID: BOT_APP_ID,
      BOT_PASSWORD,
      BOT_TYPE: 'MultiTenant',
      ALLOWED_TENANT_IDS: '*',
      ALLOWED_SERVICE_URLS: 'http://127.0.0.1:*',
      ToBotFromChannelOpenIdMetadataUrl: identity.openIdMetadataUrl,
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      ToChannelFromBotLoginUrl: identity.loginUrl,
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      AGENT_IDS: megan.aadObjectId,
      GRAPH_TENANT_ID: 'contoso',
      GRAPH_CLIENT_ID: 'chaos-graph',
      GRAPH_CLIENT_SECRET: 'chaos-graph-secret',
      SUPPORT_MAILBOX: graph.mailbox,
      GRAPH_BASE_URL: graph.baseUrl,
      AZURE_AUTHORITY_HOST: identity.authorityHost,
      GRAPH_POLL_INTERVAL: '1s',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children[i] = child;
  await waitUntilReady(ports[i]!);
  // Its heartbeat (written before it listens) names its leases.
  const rows = await database.db.selectFrom('replicas').select('id').orderBy('started_at', 'desc').execute();
  replicaIds[i] = rows.find((r) => !knownReplicas.has(r.id))?.id;
  for (const r of rows) knownReplicas.add(r.id);
}

async function waitUntilReady(port: number): Promise<void> {
  // A loaded machine may take a while to start node and the service.
  for (let i = 0; i < 1_200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`replica on ${port} did not start`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const context = { serviceUrl: connector.serviceUrl, botAppId: BOT_APP_ID };

async function post(activity: unknown): Promise<number> {
  const port = ports[Math.floor(random() * ports.length)]!;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: identity.channelAuthorization(BOT_APP_ID, connector.serviceUrl) },
      body: JSON.stringify(activity),
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    return response.status;
  } catch {
    return 0; // the replica died under the request: not accepted
  }
}

const database: Database = openDatabase(parseDatabaseUrl(databaseUrl) as never);
for (let i = 0; i < replicas; i++) await start(i);
await post(personalInstall(context, 'add', megan));
await post(personalMessage(context, 'help', { from: megan }));
// The chat the planted messages go to, so they hold up nobody else's (a conversation's messages go in order).
const canary = somebody('Chaos Canary');
await post(personalInstall(context, 'add', canary));

// ---- load
const accepted = { chats: new Set<string>(), emails: new Set<string>(), reminders: 0 };
let running = true;
let n = 0;
const load = (async () => {
  while (running) {
    n++;
    const subject = `Chaos chat ${n}`;
    const requester = somebody(`Requester ${n % 25}`);
    if ((await post(personalMessage(context, `new ${subject}`, { from: requester }))) === 200) accepted.chats.add(subject);
    const mail = `Chaos mail ${n}`;
    await graph.deliver(composeEml({ from: `customer${n % 40}@fabrikam.example`, subject: mail, text: 'Something broke.' }));
    accepted.emails.add(mail);
    if (n % 5 === 0) {
      // A reminder for the agent, due in a second or two, written as the service would.
      const ticket = await database.db.selectFrom('tickets').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst().catch(() => undefined);
      const agent = await database.db.selectFrom('people').select('id').where('aad_object_id', '=', megan.aadObjectId).executeTakeFirst().catch(() => undefined);
      if (ticket && agent) {
        const inserted = await database.db
          .insertInto('reminders')
          .values({ ticket_id: ticket.id, person_id: agent.id, due_at: Date.now() + 1_000 + Math.floor(random() * 2_000), state: 'pending', created_at: Date.now() })
          .execute()
          .then(() => true, () => false);
        if (inserted) accepted.reminders++;
      }
    }
    await sleep(60);
  }
})();

// ---- failover timing (several replicas): what the victim held, and when a survivor took each over
type Kind = 'SLA check' | 'reminder' | 'outbox' | 'mail outbox' | 'mail cursor';
const KINDS: Kind[] = ['SLA check', 'reminder', 'outbox', 'mail outbox', 'mail cursor'];
interface Held {
  kind: Kind;
  planted: boolean;
  /** True once a survivor has it (or it is done). */
  taken: () => Promise<boolean>;
  takenAfterMs?: number;
}
const takeovers: Array<{ kill: number; lastBeatAt: number; held: Held[] }> = [];
const canaries: string[] = [];

/** Right before the SIGKILL: the victim holds one claimed SLA check and one leased Teams message. */
async function plantClaims(owner: string, k: number): Promise<Held[]> {
  const db = database.db;
  const now = Date.now();
  const held: Held[] = [];
  const ticket = await db.selectFrom('tickets').select('id').where('status', 'in', ['new', 'open']).where('sla_check_owner', 'is', null).orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (ticket) {
    await db.updateTable('tickets').set({ next_sla_check_at: now + 60_000, sla_check_owner: owner }).where('id', '=', ticket.id).execute();
    held.push({ kind: 'SLA check', planted: true, taken: async () => (await db.selectFrom('tickets').select('sla_check_owner').where('id', '=', ticket.id).executeTakeFirstOrThrow()).sla_check_owner !== owner });
  }
  const chat = await db.selectFrom('conversation_references').select('id').where('conversation_id', '=', personalConversationId(canary)).executeTakeFirst();
  if (chat) {
    const text = `Chaos canary ${k}`;
    canaries.push(text);
    const row = await db
      .insertInto('outbox')
      .values({ idempotency_key: `chaos-canary:${k}`, operation: 'send', conversation_ref_id: chat.id, payload: JSON.stringify({ type: 'message', text }), status: 'pending', attempts: 0, next_attempt_at: 0, created_at: now, lease_until: now + 60_000, lease_owner: owner })
      .returning('id')
      .executeTakeFirstOrThrow();
    held.push({ kind: 'outbox', planted: true, taken: async () => (await db.selectFrom('outbox').select('lease_owner').where('id', '=', row.id).executeTakeFirstOrThrow()).lease_owner !== owner });
  }
  return held;
}

/** What the dead replica held when it died, by its leases, and the reminders due and not yet fired. */
async function heldAtDeath(owner: string, diedAt: number): Promise<Held[]> {
  const db = database.db;
  const held: Held[] = [];
  for (const t of await db.selectFrom('tickets').select('id').where('sla_check_owner', '=', owner).execute()) {
    held.push({ kind: 'SLA check', planted: false, taken: async () => (await db.selectFrom('tickets').select('sla_check_owner').where('id', '=', t.id).executeTakeFirstOrThrow()).sla_check_owner !== owner });
  }
  for (const r of await db.selectFrom('outbox').select('id').where('lease_owner', '=', owner).where('status', '=', 'pending').where('idempotency_key', 'not like', 'chaos-canary:%').execute()) {
    held.push({ kind: 'outbox', planted: false, taken: async () => (await db.selectFrom('outbox').select('lease_owner').where('id', '=', r.id).executeTakeFirstOrThrow()).lease_owner !== owner });
  }
  for (const r of await db.selectFrom('mail_outbox').select('id').where('lease_owner', '=', owner).where('status', '=', 'pending').execute()) {
    held.push({ kind: 'mail outbox', planted: false, taken: async () => (await db.selectFrom('mail_outbox').select('lease_owner').where('id', '=', r.id).executeTakeFirstOrThrow()).lease_owner !== owner });
  }
  for (const r of await db.selectFrom('mail_state').select('key').where('lease_owner', '=', owner).where('lease_until', '>', diedAt).execute()) {
    held.push({ kind: 'mail cursor', planted: false, taken: async () => (await db.selectFrom('mail_state').select('lease_owner').where('key', '=', r.key).executeTakeFirstOrThrow()).lease_owner !== owner });
  }
  // Reminders have no lease: a sweep fires each in a transaction that dies with its replica.
  for (const r of await db.selectFrom('reminders').select('id').where('state', '=', 'pending').where('due_at', '<=', diedAt).execute()) {
    held.push({ kind: 'reminder', planted: false, taken: async () => (await db.selectFrom('reminders').select('state').where('id', '=', r.id).executeTakeFirstOrThrow()).state !== 'pending' });
  }
  return held;
}

async function awaitTakeover(record: { lastBeatAt: number; held: Held[] }): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    for (const h of record.held) if (h.takenAfterMs === undefined && (await h.taken().catch(() => false))) h.takenAfterMs = Date.now() - record.lastBeatAt;
    if (record.held.every((h) => h.takenAfterMs !== undefined)) return;
    await sleep(100);
  }
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'not taken' : `${(ms / 1000).toFixed(1)} s`);

// ---- kills
const started = Date.now();
for (let k = 1; k <= kills; k++) {
  await sleep(800 + random() * 1_700);
  const victim = Math.floor(random() * replicas);
  const owner = replicaIds[victim];
  const planted = replicas > 1 && owner ? await plantClaims(owner, k) : [];
  children[victim]!.kill('SIGKILL');
  await new Promise((resolve) => children[victim]!.once('exit', resolve));
  const diedAt = Date.now();
  process.stdout.write(`kill ${k}/${kills}: replica ${victim} (SIGKILL)\n`);
  if (replicas > 1 && owner) {
    const beat = await database.db.selectFrom('replicas').select('heartbeat_at').where('id', '=', owner).executeTakeFirst();
    const record = { kill: k, lastBeatAt: Number(beat?.heartbeat_at ?? diedAt), held: [...planted, ...(await heldAtDeath(owner, diedAt))] };
    takeovers.push(record);
    // Timed while the victim restarts (which may take a while), so the figure is the survivor's.
    await Promise.all([start(victim), awaitTakeover(record)]);
    const byKind = KINDS.map((kind) => {
      const of = record.held.filter((h) => h.kind === kind);
      if (of.length === 0) return undefined;
      const worst = of.some((h) => h.takenAfterMs === undefined) ? undefined : Math.max(...of.map((h) => h.takenAfterMs!));
      return `${kind} ${seconds(worst)}${of.length > 1 ? ` (${of.length})` : ''}`;
    });
    process.stdout.write(`  taken over after the last heartbeat (${((diedAt - record.lastBeatAt) / 1000).toFixed(1)} s before the kill): ${byKind.filter(Boolean).join(', ')}\n`);
  } else {
    await start(victim);
  }
}
running = false;
await load;
process.stdout.write(`load stopped after ${((Date.now() - started) / 1000).toFixed(0)} s; waiting for the service to finish its work…\n`);

// ---- quiescence: everything ingested, sent, fired
const db = database.db;
const count = async (query: Promise<{ n: unknown } | undefined>) => Number((await query)?.n ?? 0);
// A dead replica's claims on Postgres are taken over once its heartbeat is stale (seconds, see above).
for (let i = 0; i < 1_500; i++) {
  const pendingOutbox = await count(db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirst());
  const pendingMail = await count(db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirst());
  const ingested = await count(db.selectFrom('mail_messages').select((eb) => eb.fn.countAll().as('n')).where('direction', '=', 'in').executeTakeFirst());
  const dueReminders = await count(db.selectFrom('reminders').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'pending').executeTakeFirst());
  if (pendingOutbox === 0 && pendingMail === 0 && ingested >= accepted.emails.size && dueReminders === 0) break;
  await sleep(100);
}

// ---- totals
const problems: string[] = [];
const tickets = await db.selectFrom('tickets').select(['id', 'subject', 'source']).execute();
const bySubject = new Map<string, number>();
for (const t of tickets) bySubject.set(t.subject, (bySubject.get(t.subject) ?? 0) + 1);
for (const subject of accepted.emails) if (bySubject.get(subject) !== 1) problems.push(`email "${subject}": ${bySubject.get(subject) ?? 0} tickets`);
for (const subject of accepted.chats) if (bySubject.get(subject) !== 1) problems.push(`chat "${subject}": ${bySubject.get(subject) ?? 0} tickets`);
for (const [subject, times] of bySubject) if (times > 1) problems.push(`"${subject}" is ${times} tickets`);
const mailRows = await db.selectFrom('mail_messages').select(['internet_message_id']).where('direction', '=', 'in').execute();
if (mailRows.length !== accepted.emails.size) problems.push(`${mailRows.length} emails recorded, ${accepted.emails.size} delivered`);
const halfWritten = await sql<{ id: number }>`select t.id from tickets t where not exists (select 1 from timeline_entries e where e.ticket_id = t.id and e.kind = 'created') or not exists (select 1 from audit_log a where a.ticket_id = t.id and a.action = 'ticket.create')`.execute(db);
if (halfWritten.rows.length > 0) problems.push(`${halfWritten.rows.length} tickets without their created entry or audit row`);
const stuck = await count(db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '!=', 'sent').executeTakeFirst());
const stuckMail = await count(db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '!=', 'sent').executeTakeFirst());
if (stuck + stuckMail > 0) problems.push(`${stuck} Teams and ${stuckMail} mail outbox rows not sent`);
const reminders = await db.selectFrom('reminders').select(['id', 'state']).execute();
const reminderRows = await db.selectFrom('outbox').select(['idempotency_key']).where('idempotency_key', 'like', 'reminder:%').execute();
const perReminder = new Map<string, number>();
for (const r of reminderRows) {
  const id = r.idempotency_key.split(':')[1]!;
  perReminder.set(id, (perReminder.get(id) ?? 0) + 1);
}
for (const r of reminders) if (r.state !== 'sent' || perReminder.get(String(r.id)) !== 1) problems.push(`reminder ${r.id}: ${r.state}, ${perReminder.get(String(r.id)) ?? 0} outbox rows`);
// What Teams received: a reminder card posted twice would have to be sent in the instant between Teams
// accepting it and the commit that records it (at-least-once delivery); counted, not hidden.
const cards = connector.delivered('send').filter((c) => c.conversationId.includes(megan.aadObjectId) && JSON.stringify(c.activity).includes('Reminder'));
const acks = graph.sent.filter((s) => s.subject.startsWith('RE: Chaos mail'));
// The planted messages were never sent by the victim (it died first): each goes out exactly once.
for (const text of canaries) {
  const sent = connector.delivered('send').filter((c) => c.activity.text === text).length;
  if (sent !== 1) problems.push(`"${text}" sent ${sent} times`);
}
const failover: string[] = [];
if (takeovers.length > 0) {
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  failover.push('takeover after the dead replica\'s last heartbeat (per kill, the slowest item of each kind):');
  for (const kind of KINDS) {
    const perKill = takeovers.map((t) => t.held.filter((h) => h.kind === kind)).filter((of) => of.length > 0);
    const untaken = perKill.filter((of) => of.some((h) => h.takenAfterMs === undefined)).length;
    const times = perKill.filter((of) => of.every((h) => h.takenAfterMs !== undefined)).map((of) => Math.max(...of.map((h) => h.takenAfterMs!)));
    const natural = perKill.filter((of) => of.some((h) => !h.planted)).length;
    failover.push(
      `  ${kind.padEnd(12)} ${times.length === 0 ? 'held at no kill' : `median ${seconds(median(times))}, max ${seconds(Math.max(...times))} over ${times.length} kills`}` +
        `${natural > 0 && natural < perKill.length ? ` (${natural} held naturally, the rest planted)` : natural === 0 && perKill.length > 0 ? ' (planted)' : ''}${untaken > 0 ? `; NOT TAKEN at ${untaken} kills` : ''}`,
    );
    if (untaken > 0) problems.push(`${kind}: not taken over at ${untaken} kills`);
  }
}
const ackSubjects = new Set(acks.map((a) => a.subject));

for (let i = 0; i < replicas; i++) children[i]!.kill('SIGTERM');
await Promise.all(children.map((c) => new Promise((resolve) => c!.once('exit', resolve))));
await database.close();
await connector.stop();
await graph.stop();
await identity.stop();

process.stdout.write(
  [
    `\n${kills} kills of ${replicas} replica(s) on ${replicas > 1 ? 'Postgres' : 'SQLite'} over ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `accepted: ${accepted.chats.size} chat turns, ${accepted.emails.size} emails, ${accepted.reminders} reminders`,
    `tickets: ${tickets.length} (${tickets.filter((t) => t.source === 'email').length} from email); reminders sent: ${reminders.filter((r) => r.state === 'sent').length}/${reminders.length}`,
    `reminder cards Teams received: ${cards.length} for ${reminders.length} reminders; acknowledgements Graph received: ${acks.length} for ${ackSubjects.size} tickets`,
    ...failover,
    problems.length === 0 ? 'totals: all accounted for, exactly once' : `PROBLEMS (${problems.length}):\n${problems.slice(0, 30).map((p) => `  - ${p}`).join('\n')}`,
  ].join('\n') + '\n',
);
process.exit(problems.length === 0 ? 0 : 1);
