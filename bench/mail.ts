import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeGraph } from '../test/fakes/graph.js';
import { FakeIdentityProvider } from '../test/fakes/identity-provider.js';
import type { FakeMessage } from '../test/fakes/mail-message.js';
import { testCaPath } from '../test/fakes/tls.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const MAILBOX = 'support@contoso.example';
const APP = { id: 'bench-graph-app', secret: 'bench-graph-secret' };

/**
 * Email intake: (1) 5,000 messages from the fake Graph with no added latency, messages per second and
 * CPU per message against only writing the rows that intake wrote (copied from its database: same
 * tables, columns and sizes, one transaction per message), in the same run; (2) with 50 ms per
 * Graph request and Outlook's limit of 4 concurrent requests per mailbox, the request rate achieved
 * against the 4 / 50 ms = 80 requests per second that limit allows.
 */
export async function benchMail(options: { messages: number; latencyMessages: number }) {
  const identity = await new FakeIdentityProvider().start();
  identity.registerApp(APP.id, APP.secret);
  try {
    const fast = await withMailbox(identity, options.messages, { latencyMs: 0, attachments: false }, 'ingest');
    const baseline = await runChild('baseline', {}, options.messages, [fast.result.path]);
    const slow = await withMailbox(identity, options.latencyMessages, { latencyMs: 50, attachments: true }, 'ingest');
    return { fast: fast.result, baseline, slow: { ...slow.result, peak: slow.peak } };
  } finally {
    await identity.stop();
  }
}

async function withMailbox(identity: FakeIdentityProvider, count: number, shape: { latencyMs: number; attachments: boolean }, mode: 'ingest') {
  const graph = await new FakeGraph(identity, { mailbox: MAILBOX }).start();
  const received = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < count; i++) graph.deliverMessage(message(i, received, shape.attachments), shape.attachments ? [attachment(i)] : []);
  graph.latencyMs = shape.latencyMs;
  try {
    const result = await runChild(mode, { GRAPH_BASE_URL: graph.baseUrl, AZURE_AUTHORITY_HOST: identity.authorityHost, GRAPH_CLIENT_ID: APP.id, GRAPH_CLIENT_SECRET: APP.secret, SUPPORT_MAILBOX: MAILBOX }, count);
    return { result, peak: graph.peakInFlight };
  } finally {
    await graph.stop();
  }
}

function message(i: number, received: string, withAttachment: boolean): FakeMessage {
  const from = { emailAddress: { name: `Customer ${i}`, address: `customer${i}@fabrikam.example` } };
  return {
    id: `AAMk${i.toString().padStart(8, '0')}`,
    internetMessageId: `<m${i}@fabrikam.example>`,
    conversationId: `AAQk${i}`,
    subject: `Problem ${i}: the VPN drops`,
    from,
    toRecipients: [{ emailAddress: { name: 'Support', address: MAILBOX } }],
    ccRecipients: [],
    receivedDateTime: received,
    body: { contentType: 'html', content: `<html><body><p>Hello,</p><p>Since this morning the VPN drops every ${i % 60} minutes &amp; I lose my work.</p><p>Thanks,<br>Customer ${i}</p></body></html>` },
    hasAttachments: withAttachment,
    internetMessageHeaders: [
      { name: 'Message-ID', value: `<m${i}@fabrikam.example>` },
      { name: 'From', value: `Customer ${i} <customer${i}@fabrikam.example>` },
      { name: 'Content-Type', value: 'text/html; charset=utf-8' },
    ],
  };
}

function attachment(i: number) {
  const content = Buffer.from(`log line ${i}\n`.repeat(20));
  return { '@odata.type': '#microsoft.graph.fileAttachment' as const, id: `att${i}`, name: `vpn-${i}.log`, contentType: 'text/plain', size: content.length, isInline: false, contentId: null, contentBytes: content.toString('base64') };
}

interface ChildResult {
  ingested: number;
  elapsedMs: number;
  cpuMs: number;
  requests: number;
  /** Rows in each table written. */
  written: Record<string, number>;
  /** Bytes of data in those tables. */
  bytes: number;
  path: string;
}

function runChild(mode: 'ingest' | 'baseline', env: Record<string, string>, count: number, args: string[] = []): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/mail-ingest.ts', mode, ...args], {
      cwd: root,
      env: { ...process.env, ...env, NODE_EXTRA_CA_CERTS: testCaPath, NODE_NO_WARNINGS: '1', BENCH_MESSAGES: String(count) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`bench/mail-ingest.ts ${mode} exited with ${code}`))));
  });
}

const perMessage = (x: ChildResult) =>
  Object.entries(x.written)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => (n < x.ingested ? `${table} ${n} in all` : `${table} ${(n / x.ingested).toFixed(2).replace(/\.00$/, '')}`))
    .join(', ');
const sameRows = (a: ChildResult, b: ChildResult) => JSON.stringify(a.written) === JSON.stringify(b.written) && a.bytes === b.bytes;

export function reportMail(r: Awaited<ReturnType<typeof benchMail>>): string {
  const rate = (x: { ingested: number; elapsedMs: number }) => x.ingested / (x.elapsedMs / 1000);
  const allowed = 4 / 0.05;
  const slowRate = r.slow.requests / (r.slow.elapsedMs / 1000);
  return [
    `${r.fast.ingested.toLocaleString('en')} emails through Graph delta + intake: ${rate(r.fast).toFixed(0)} messages/s, ${(r.fast.cpuMs / r.fast.ingested).toFixed(2)} ms CPU per message (${r.fast.requests} Graph requests)`,
    `rows intake wrote per message: ${perMessage(r.fast)}; ${(r.fast.bytes / r.fast.ingested).toFixed(0)} bytes`,
    `only writing the same rows (copied: ${sameRows(r.fast, r.baseline) ? 'same' : 'DIFFERENT'} rows per table, ${(r.baseline.bytes / r.baseline.ingested).toFixed(0)} bytes per message): ${rate(r.baseline).toFixed(0)} messages/s, ${(r.baseline.cpuMs / r.baseline.ingested).toFixed(2)} ms CPU per message`,
    `ratio ingest/insert-only: ${(rate(r.fast) / rate(r.baseline)).toFixed(2)} (throughput), ${(r.fast.cpuMs / r.fast.ingested / (r.baseline.cpuMs / r.baseline.ingested)).toFixed(2)}× the CPU per message`,
    `with 50 ms per request and 4 concurrent allowed: ${r.slow.ingested.toLocaleString('en')} emails with an attachment each, ${r.slow.requests} requests in ${(r.slow.elapsedMs / 1000).toFixed(1)} s = ${slowRate.toFixed(1)} requests/s against ${allowed}/s the limit allows = ${((slowRate / allowed) * 100).toFixed(0)}% (peak ${r.slow.peak} in flight)`,
  ].join('\n');
}
