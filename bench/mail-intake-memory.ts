import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FakeGraph } from '../test/fakes/graph.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import type { FakeMessage } from '../test/fakes/mail-message.js';
import { testCaPath } from '../test/fakes/tls.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const self = fileURLToPath(import.meta.url);
const MAILBOX = 'support@contoso.example';
const APP = { id: 'bench-graph-app', secret: 'bench-graph-secret' };
const GOAL_BYTES = 300 * 1024 * 1024;

/**
 * Memory of email intake under large attachments: `messages` emails with one file of
 * `attachmentBytes` each (500 × 10 MB by default: 5 GB that must never be in memory at once) go
 * through the fake Graph and the real client, sync, intake and store, with ATTACHMENT_DIR set as in
 * production. Intake runs in a child process of its own (the fake Graph, which makes the files' bytes on
 * the fly, runs here), which samples its resident set every 5 ms and reads the kernel's high-water mark
 * (VmHWM) at the end. The baseline is the same emails without attachments, in the same run; the goal is
 * a peak under 300 MB.
 */
export interface IntakeMemoryOptions {
  messages: number;
  attachmentBytes: number;
  /** Messages per delta page (Graph's odata.maxpagesize): a page's files must not be held together. */
  pageSize: number;
}

export const DEFAULT_INTAKE_MEMORY: IntakeMemoryOptions = { messages: 500, attachmentBytes: 10 * 1024 * 1024, pageSize: 50 };

interface ChildResult {
  mode: 'attachments' | 'baseline';
  ingested: number;
  elapsedMs: number;
  startRss: number;
  peakRss: number;
  /** The kernel's peak resident set of the child (VmHWM), or 0 where /proc is not there. */
  highWater: number;
  filesStored: number;
  bytesStored: number;
  requests: number;
}

export async function benchIntakeMemory(options: Partial<IntakeMemoryOptions> = {}) {
  const o = { ...DEFAULT_INTAKE_MEMORY, ...options };
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(APP.id, APP.secret);
  try {
    const baseline = await withMailbox(identity, o, false);
    const attachments = await withMailbox(identity, o, true);
    return { options: o, baseline: baseline.result, attachments: { ...attachments.result, peakDownloads: attachments.peakDownloads } };
  } finally {
    await identity.stop();
  }
}

export function reportIntakeMemory(r: Awaited<ReturnType<typeof benchIntakeMemory>>): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const peak = (x: ChildResult) => Math.max(x.peakRss, x.highWater);
  const a = r.attachments;
  const b = r.baseline;
  return [
    `${a.ingested} emails with a ${mb(r.options.attachmentBytes)} attachment each (${(a.bytesStored / 1024 / 1024 / 1024).toFixed(2)} GB stored in ${a.filesStored} files, ${r.options.pageSize} per delta page) in ${(a.elapsedMs / 1000).toFixed(1)} s: peak RSS ${mb(peak(a))} (sampled ${mb(a.peakRss)}, kernel high-water ${mb(a.highWater)}), ${mb(a.startRss)} at the start; at most ${a.peakDownloads} download(s) at once`,
    `the same ${b.ingested} emails without attachments: peak RSS ${mb(peak(b))} (sampled ${mb(b.peakRss)}, kernel high-water ${mb(b.highWater)}) in ${(b.elapsedMs / 1000).toFixed(1)} s`,
    `attachments added ${mb(peak(a) - peak(b))} to the peak (${(peak(a) / peak(b)).toFixed(2)}× the baseline); goal: under ${mb(GOAL_BYTES)}: ${peak(a) < GOAL_BYTES ? 'met' : 'NOT MET'}`,
  ].join('\n');
}

async function withMailbox(identity: FakeIdentityProvider, o: IntakeMemoryOptions, withAttachments: boolean) {
  const graph = await new FakeGraph(identity, { mailbox: MAILBOX }).start();
  // One block of random bytes, repeated: the fake holds 64 KB whatever the files add up to.
  const block = randomBytes(64 * 1024);
  const received = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < o.messages; i++) {
    const message = benchMessage(i, received, withAttachments);
    graph.deliverMessage(
      message,
      withAttachments
        ? [
            {
              '@odata.type': '#microsoft.graph.fileAttachment',
              id: `${message.id}-att0`,
              name: `capture-${i}.pcap`,
              contentType: 'application/vnd.tcpdump.pcap',
              size: o.attachmentBytes,
              isInline: false,
              contentId: null,
              content: () => Readable.from(repeat(block, o.attachmentBytes)),
            },
          ]
        : [],
    );
  }
  try {
    const result = await runChild(withAttachments ? 'attachments' : 'baseline', o, { GRAPH_BASE_URL: graph.baseUrl, AZURE_AUTHORITY_HOST: identity.authorityHost });
    return { result, peakDownloads: graph.peakDownloadsInFlight };
  } finally {
    await graph.stop();
  }
}

function* repeat(block: Buffer, total: number): Generator<Buffer> {
  for (let left = total; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

function benchMessage(i: number, received: string, hasAttachments: boolean): FakeMessage {
  const id = `<capture${i}@fabrikam.example>`;
  return {
    id: `AAMk${i.toString().padStart(8, '0')}`,
    internetMessageId: id,
    conversationId: `AAQk${i}`,
    subject: `Packet capture ${i} of the dropped VPN`,
    from: { emailAddress: { name: `Customer ${i}`, address: `customer${i}@fabrikam.example` } },
    toRecipients: [{ emailAddress: { name: 'Support', address: MAILBOX } }],
    ccRecipients: [],
    receivedDateTime: received,
    body: { contentType: 'html', content: `<p>Hello,</p><p>the capture of this morning's drop is attached.</p><p>Customer ${i}</p>` },
    hasAttachments,
    internetMessageHeaders: [
      { name: 'Message-ID', value: id },
      { name: 'From', value: `Customer ${i} <customer${i}@fabrikam.example>` },
    ],
  };
}

function runChild(mode: ChildResult['mode'], o: IntakeMemoryOptions, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, 'child', mode], {
      cwd: root,
      env: { ...process.env, ...env, NODE_EXTRA_CA_CERTS: testCaPath, NODE_NO_WARNINGS: '1', BENCH_OPTIONS: JSON.stringify(o) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`bench/mail-intake-memory.ts child ${mode} exited with ${code}`))));
  });
}

/** The child: one mailbox round through the real client, sync, intake and store, measuring its own memory. */
async function child(mode: ChildResult['mode']): Promise<void> {
  const { createLogger } = await import('../src/logger.js');
  const { GraphMailClient } = await import('../src/integrations/graph/mail-client.js');
  const { loadSlaPolicy } = await import('../src/sla-config.js');
  const { MailIntake } = await import('../src/services/mail/intake.js');
  const { DEFAULT_ACK_TEMPLATE, OutgoingMail } = await import('../src/services/mail/outgoing.js');
  const { TicketService } = await import('../src/services/tickets.js');
  const { migrateToLatest, openDatabase } = await import('../src/store/database.js');
  const { MailSync } = await import('../src/workers/mail-sync.js');

  const o = JSON.parse(process.env.BENCH_OPTIONS!) as IntakeMemoryOptions;
  const dir = mkdtempSync(join(tmpdir(), 'bench-mail-memory-'));
  try {
    const database = openDatabase({ kind: 'sqlite', path: join(dir, 'desk.db') });
    await migrateToLatest(database.db);
    const loaded = loadSlaPolicy(undefined);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const logger = createLogger('warn');
    const client = new GraphMailClient(
      { tenantId: 'contoso', clientId: APP.id, clientSecret: APP.secret, mailbox: MAILBOX, baseUrl: process.env.GRAPH_BASE_URL!, authorityHost: process.env.AZURE_AUTHORITY_HOST! },
      { pageSize: o.pageSize },
    );
    const intake = new MailIntake({
      database,
      tickets: new TicketService({ database, sla: loaded.policy }),
      outgoing: new OutgoingMail({ acknowledge: true, ackTemplate: DEFAULT_ACK_TEMPLATE, ackMaxPerHour: 3, ackMaxPerHourTotal: 1_000_000, ownAddresses: [MAILBOX] }),
      source: MailSync.source(client),
      options: { ownAddresses: [MAILBOX], reopenWindowMs: 7 * 86_400_000, attachmentMaxBytes: Math.max(o.attachmentBytes, 10 * 1024 * 1024), attachmentDir: join(dir, 'files') },
      logger,
    });
    const sync = new MailSync({ database, client, intake, logger, options: { backfillMs: 7 * 86_400_000 } });

    const startRss = process.memoryUsage.rss();
    let peakRss = startRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 5);
    const t0 = performance.now();
    await sync.round();
    const elapsedMs = performance.now() - t0;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (sync.stats.lastError) throw new Error(sync.stats.lastError);

    const ingested = Number((await database.db.selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const files = await database.db.selectFrom('mail_attachments').select(['size']).where('storage', '=', 'file').execute();
    await database.close();
    const result: ChildResult = { mode, ingested, elapsedMs, startRss, peakRss, highWater: highWaterMark(), filesStored: files.length, bytesStored: files.reduce((sum, f) => sum + Number(f.size), 0), requests: client.requests };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function highWaterMark(): number {
  try {
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

if (process.argv[2] === 'child' && pathToFileURL(process.argv[1] ?? '').href === import.meta.url) {
  await child(process.argv[3] as ChildResult['mode']);
} else if (process.argv[2] === 'run' && pathToFileURL(process.argv[1] ?? '').href === import.meta.url) {
  // `node --import tsx bench/mail-intake-memory.ts run [messages] [attachmentBytes]`: this one alone.
  const [messages, attachmentBytes] = process.argv.slice(3).map(Number);
  process.stdout.write(`${reportIntakeMemory(await benchIntakeMemory({ ...(messages ? { messages } : {}), ...(attachmentBytes ? { attachmentBytes } : {}) }))}\n`);
}
