import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReference } from '../src/domain/ticket-reference.js';
import { FakeGraph } from '../test/fakes/graph.js';
import { FakeHubSpot } from '../test/fakes/hubspot.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import { composeEml } from '../test/fakes/mail-message.js';
import { testCaPath } from '../test/fakes/tls.js';
import { botReady } from './lib/ready.js';

/**
 * `npm run demo`: the whole desk on one machine, with no credentials and no network. It starts a local
 * mailbox (the Graph fake the tests use), a local CRM (the HubSpot fake, with a few customers), the bot
 * in local mode with an SLA policy compressed to minutes, and the Microsoft 365 Agents Playground as
 * Teams. Then it plays the part of the outside world: the bot joins the Support team, its Triage
 * channel is set up, Dana from Fabrikam (a VIP customer) emails the support mailbox, and Alex asks for
 * a reminder. The terminal narrates what happens; the Playground shows the cards, and their buttons work.
 *
 *   npm run demo [-- --pace 0.5] [--port 3978] [--playground-port 56150] [--dir data/demo] [--no-wait]
 *
 * The story starts when the Playground is open in a browser (it keeps no history for a page opened
 * later); `--no-wait` starts it at once, for a run with nobody watching. `--pace` scales every SLA
 * duration (0.5 = twice as fast). The bot's JSON log goes to <dir>/service.log.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    pace: { type: 'string', default: process.env.DEMO_PACE ?? '1' },
    port: { type: 'string', default: process.env.PORT ?? '3978' },
    'playground-port': { type: 'string', default: process.env.PLAYGROUND_PORT ?? '56150' },
    dir: { type: 'string', default: 'data/demo' },
    'no-wait': { type: 'boolean', default: false },
  },
});
const pace = Number(args.pace);
if (!(pace > 0 && pace <= 10)) fail(`--pace must be a number between 0 and 10 (got "${args.pace}")`);
const port = Number(args.port);
const dir = new URL(`${args.dir.replace(/\/$/, '')}/`, new URL(`file://${process.cwd()}/`)).pathname;

// The Playground's people and places (its default mock tenant), as Teams would name them.
const TENANT = '00000000-0000-0000-0000-0000000000001';
const BOT_ID = '00000000-0000-0000-0000-00000000000011';
const ALEX = { id: 'user-id-0', name: 'Alex Wilber', aadObjectId: '00000000-0000-0000-0000-0000000000020' };
const MEGAN_AAD = '00000000-0000-0000-0000-0000000000021';
const PERSONAL_CHAT = 'personal-chat-alex';
const TEAM = { id: 'support-team-id', name: 'Support', aadGroupId: '00000000-0000-0000-0000-000000000031' };
const TRIAGE = { id: 'triage-channel-id', name: 'Triage' };
const MAILBOX = 'support@contoso.example';
const GRAPH_APP = { id: '5b4f3c2e-demo-4c1d-9a7e-6f0e2d1c3b4a', secret: `demo-${randomUUID()}` };

const minutes = (m: number) => `${+(m * pace).toFixed(4)}m`;
const SLA_POLICY = `# The demo's SLA policy: real rules, minutes instead of hours (scaled by --pace ${pace}).
calendars:
  always: { timeZone: UTC, hours: 24x7 }
defaultCalendar: always
defaultTier: standard
tiers:
  standard:
    P1: { firstResponse: ${minutes(4)}, resolution: ${minutes(20)} }
    P2: { firstResponse: ${minutes(6)}, resolution: ${minutes(30)} }
    P3: { firstResponse: ${minutes(8)}, resolution: ${minutes(40)} }
    P4: { firstResponse: ${minutes(10)}, resolution: ${minutes(60)} }
  vip:
    P1: { firstResponse: ${minutes(1)}, resolution: ${minutes(5)} }
    P2: { firstResponse: ${minutes(1.5)}, resolution: ${minutes(8)} }
    P3: { firstResponse: ${minutes(2)}, resolution: ${minutes(10)} }
    P4: { firstResponse: ${minutes(3)}, resolution: ${minutes(15)} }
crmTiers: { vip: vip, platinum: vip, standard: standard }
warnings: [50%]
escalation:
  default:
    - { notify: person:${ALEX.aadObjectId}, timeout: ${minutes(3)} }
    - { notify: channel:triage, timeout: ${minutes(3)} }
`;

// The Playground's own config format (its default, with our team, channel and bot names).
const PLAYGROUND_CONFIG = `version: "0.1.1"
tenantId: ${TENANT}
bot:
  id: ${BOT_ID}
  name: Service Desk
currentUser:
  id: ${ALEX.id}
  name: ${ALEX.name}
  userPrincipleName: alexw@example.com
  aadObjectId: ${ALEX.aadObjectId}
  givenName: Alex
  surname: Wilber
  email: alexw@example.com
users:
${[
  ['user-id-1', 'Megan Bowen', 'meganb', MEGAN_AAD],
  ['user-id-2', 'Adele Vance', 'adelev', '00000000-0000-0000-0000-0000000000022'],
  ['user-id-3', 'Isaiah Langer', 'isaiahl', '00000000-0000-0000-0000-0000000000023'],
  ['user-id-4', 'Patti Fernandez', 'pattif', '00000000-0000-0000-0000-0000000000024'],
  ['user-id-5', 'Lynne Robbins', 'lynner', '00000000-0000-0000-0000-0000000000025'],
]
  .map(([id, name, alias, aad]) => {
    const [given, surname] = name!.split(' ');
    return `  - id: ${id}\n    name: ${name}\n    userPrincipleName: ${alias}@example.com\n    aadObjectId: ${aad}\n    givenName: ${given}\n    surname: ${surname}\n    email: ${alias}@example.com`;
  })
  .join('\n')}
personalChat:
  id: ${PERSONAL_CHAT}
groupChat:
  id: demo-group-chat
  name: Group Chat
team:
  id: ${TEAM.id}
  name: ${TEAM.name}
  aadGroupId: ${TEAM.aadGroupId}
  channels:
    - id: ${TRIAGE.id}
      name: ${TRIAGE.name}
`;

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
let stopping = false;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

function start(name: string, command: string, commandArgs: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
  const child = spawn(command, commandArgs, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`demo: ${name} stopped (${signal ?? `exit ${code}`}); see ${dir}service.log. Stopping the demo.\n`);
    void stop(1);
  });
  return child;
}

// ---------------------------------------------------------------------------------------------------
// 1. A clean place for the demo's database, logs and configs.
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}sla.yaml`, SLA_POLICY);
writeFileSync(`${dir}.m365agentsplayground.yml`, PLAYGROUND_CONFIG);
const serviceLog = `${dir}service.log`;
writeFileSync(serviceLog, '');

// 2. The outside world: Entra (for the mailbox's token), the mailbox, and the CRM with its customers.
const identity = await new FakeIdentityProvider().start();
identity.registerApp(GRAPH_APP.id, GRAPH_APP.secret);
cleanups.push(() => identity.stop());
const graph = await new FakeGraph(identity, { mailbox: MAILBOX }).start();
cleanups.push(() => graph.stop());
const hubspot = await new FakeHubSpot().start();
cleanups.push(() => hubspot.stop());
hubspot.addCustomer({ email: 'dana@fabrikam.example', firstname: 'Dana', lastname: 'Ruiz' }, { id: '101', name: 'Fabrikam', domain: 'fabrikam.example', support_tier: 'VIP', hubspot_owner_id: '7', hs_num_open_deals: '2' });
hubspot.addCustomer({ email: 'erin@northwind.example', firstname: 'Erin', lastname: 'Lee' }, { id: '102', name: 'Northwind Traders', domain: 'northwind.example', support_tier: 'Standard', hubspot_owner_id: '7', hs_num_open_deals: '0' });
say(`Local mailbox ${MAILBOX} and CRM (Fabrikam: VIP, Northwind: Standard) are up.`);

// 3. The bot, in local mode (no BOT_ID: no Teams credentials, loopback only), reading the fakes.
const bot = start('the bot', process.execPath, ['--disable-warning=DEP0111', '--import', 'tsx', 'src/main.ts'], {
  cwd: root,
  env: {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    BOT_ID: '',
    LOG_LEVEL: 'info',
    DATABASE_URL: `sqlite:${dir}service-desk.db`,
    SLA_CONFIG: `${dir}sla.yaml`,
    ALLOWED_TENANT_IDS: TENANT,
    ADMIN_IDS: ALEX.aadObjectId,
    AGENT_IDS: `${ALEX.aadObjectId},${MEGAN_AAD}`,
    GRAPH_TENANT_ID: 'contoso',
    GRAPH_CLIENT_ID: GRAPH_APP.id,
    GRAPH_CLIENT_SECRET: GRAPH_APP.secret,
    SUPPORT_MAILBOX: MAILBOX,
    GRAPH_BASE_URL: graph.baseUrl,
    AZURE_AUTHORITY_HOST: identity.authorityHost,
    GRAPH_POLL_INTERVAL: '2s',
    GRAPH_NOTIFICATION_URL: '',
    // The local mailbox speaks HTTPS with the tests' own certificate authority.
    NODE_EXTRA_CA_CERTS: testCaPath,
    HUBSPOT_ACCESS_TOKEN: hubspot.accessToken,
    HUBSPOT_BASE_URL: hubspot.baseUrl,
    HUBSPOT_CLIENT_SECRET: '',
  },
});
const events = followLog(bot);

// 4. The Agents Playground: Teams, locally. It opens a browser unless TEAMSAPPTESTER_BROWSER=none.
const playground = start(
  'the Agents Playground',
  process.execPath,
  [fileURLToPath(import.meta.resolve('@microsoft/m365agentsplayground/cli.js')), 'start', '-e', `http://127.0.0.1:${port}/api/messages`, '-c', 'msteams', '-p', args['playground-port'], '--dt'],
  { cwd: dir, env: { ...process.env } },
);
const playgroundPort = await new Promise<number>((resolve) => {
  // It moves to a free port when its own is taken, and says which.
  createInterface({ input: playground.stdout! }).on('line', (line) => {
    const listening = /Listening on (\d+)/.exec(line);
    if (listening) resolve(Number(listening[1]));
  });
  playground.stderr!.on('data', (chunk: Buffer) => appendFileSync(serviceLog, `[playground] ${chunk.toString('utf8')}`));
});
const serviceUrl = `http://127.0.0.1:${playgroundPort}/_connector`;
if (!(await botReady(port))) {
  say(`The bot did not become ready on port ${port} within 30 s; see ${serviceLog}.`);
  await stop(1);
}
say(`Bot ready on http://127.0.0.1:${port}/api/messages.`);
say(`Agents Playground: http://localhost:${playgroundPort} (you are Alex Wilber, an agent and admin).`);
if (args['no-wait']) {
  // Nobody's Playground page will install the bot in Alex's personal chat: do it as Teams would.
  await toBot({ type: 'installationUpdate', action: 'add', conversation: personal(), channelData: { tenant: { id: TENANT }, source: { name: 'message' } } });
} else {
  say('Waiting for the Playground page to open (it opens by itself unless TEAMSAPPTESTER_BROWSER=none; or run with --no-wait)…');
  // The page installs the bot in Alex's personal chat when it connects.
  await events.next((e) => e.msg === 'activity handled' && e.type === 'installationUpdate' && !String(e.correlationId).startsWith('activity:demo-'));
}
say('');

// 5. The story. The bot joins the team and the Triage channel is set up, as an admin would.
await toBot({ type: 'conversationUpdate', membersAdded: [{ id: BOT_ID }], conversation: channel(TEAM.id), channelData: teamData(TEAM.id, 'teamMemberAdded') });
await toBot({ type: 'message', text: '<at>Service Desk</at> setup triage', conversation: channel(TRIAGE.id), channelData: teamData(TRIAGE.id), entities: [{ type: 'mention', text: '<at>Service Desk</at>', mentioned: { id: BOT_ID, name: 'Service Desk' } }] });
say('1. The bot joined the Support team; new tickets go to Support › Triage.');

const mail = await graph.deliver(
  composeEml({
    from: 'dana@fabrikam.example',
    fromName: 'Dana Ruiz',
    to: MAILBOX,
    subject: 'Payroll export fails with "access denied"',
    text: 'Hi team,\n\nSince this morning the payroll export stops with "access denied". Payroll runs tonight.\n\nDana Ruiz\nFabrikam',
  }),
);
say('2. Dana Ruiz (Fabrikam, a VIP customer) emails the support mailbox…');
const ticketId = (await events.next((e) => e.msg === 'email ingested' && e.messageId === mail.internetMessageId && e.disposition === 'ticket')).ticketId as number;
const ref = formatReference('incident', ticketId);
say(`   ✓ ${ref} opened from Dana's email (ticket created).`);
await events.next((e) => e.msg === 'outbox message delivered' && String(e.key).startsWith(`ticket:${ticketId}:created:`));
say(`   ✓ its card is in Support › Triage, with Take, Assign, priority and a Reply box.`);
await events.next((e) => e.msg === 'email sent' && e.kind === 'acknowledgement');
say(`   ✓ Dana got an acknowledgement in the same email thread (${graph.sent.length} sent by the mailbox).`);
await events.next((e) => e.msg === 'ticket changed' && e.ticket === ref && e.event === 'tier');
say(`   ✓ HubSpot says Fabrikam is VIP: the ticket's SLA is now the VIP one (first response in ${minutes(2)}).`);

await toBot({ type: 'message', text: `remind me ${ref} in ${+(1.5 * pace).toFixed(4)} minutes`, conversation: personal(), channelData: { tenant: { id: TENANT } } });
say(`3. Alex asked for a reminder on ${ref} in ${minutes(1.5)} (personal chat).`);
say('');
say('Now watch the Playground (Triage channel, and the personal chat):');

const sent = (prefix: string) => (e: LogEvent) => e.msg === 'outbox message delivered' && String(e.key).startsWith(prefix);
await events.next(sent(`sla:${ticketId}:first_response:warning:`));
say(`4. ⚠ An SLA warning card for ${ref} arrived (half its first-response time is gone). Press Snooze on it, or Take.`);
await events.next(sent(`reminder:`));
say(`5. ⏰ Alex's reminder for ${ref} fired in the personal chat, with Complete and Snooze.`);
await events.next(sent(`escalation:`));
say(`6. ⤴ Nobody answered Dana in time: ${ref} breached and escalated to Alex. Press Accept on the card in the personal chat.`);
say('');
say(`That is the tour. Try "help", "list", "show ${ref}", "report" or "status" in the Playground; Ctrl+C stops the demo.`);
void events.watch((e) => {
  if (e.msg === 'ticket changed' && e.surface !== 'system') say(`   · ${e.ticket}: ${e.event} (from a ${e.surface})`);
  if (e.msg === 'email ingested' && e.messageId !== mail.internetMessageId) say(`   · email ${e.disposition}${e.ticketId ? ` → ticket ${e.ticketId}` : ''}`);
});

// ---------------------------------------------------------------------------------------------------

type LogEvent = Record<string, unknown> & { msg?: string };

/** The bot's JSON log lines, kept in <dir>/service.log and offered to whoever waits for one. */
function followLog(child: ChildProcess) {
  const seen: LogEvent[] = [];
  const waiters: Array<{ match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }> = [];
  const watchers: Array<(e: LogEvent) => void> = [];
  const onLine = (line: string) => {
    appendFileSync(serviceLog, `${line}\n`);
    let event: LogEvent;
    try {
      event = JSON.parse(line) as LogEvent;
    } catch {
      return; // not ours (Node's warnings)
    }
    seen.push(event);
    if (event.level === 'error') say(`   ! the bot logged an error: ${event.msg} (see ${serviceLog})`);
    for (const waiter of [...waiters]) {
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
    for (const watcher of watchers) watcher(event);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (line) => appendFileSync(serviceLog, `${line}\n`));
  return {
    /** The first line (already seen or still to come) that matches. */
    next(match: (e: LogEvent) => boolean): Promise<LogEvent> {
      const found = seen.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    watch(watcher: (e: LogEvent) => void): void {
      watchers.push(watcher);
    },
  };
}


function personal() {
  return { conversationType: 'personal', tenantId: TENANT, id: PERSONAL_CHAT };
}

function channel(id: string) {
  return { isGroup: true, conversationType: 'channel', tenantId: TENANT, id };
}

function teamData(channelId: string, eventType?: string) {
  return { team: TEAM, channel: { id: channelId }, teamsTeamId: TEAM.id, teamsChannelId: channelId, tenant: { id: TENANT }, ...(eventType ? { eventType } : {}) };
}

/** Sends an activity to the bot as Teams (the Playground's connector) would, from Alex. */
async function toBot(activity: Record<string, unknown>): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: `demo-${randomUUID()}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl,
      from: ALEX,
      recipient: { id: BOT_ID, name: 'Service Desk' },
      locale: 'en-US',
      ...activity,
    }),
  });
  if (!response.ok) {
    say(`The bot answered ${response.status} to the demo's ${String(activity.type)}: ${await response.text()}`);
    await stop(1);
  }
}
