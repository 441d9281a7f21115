import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { createLogger } from '../src/logger.js';
import { GraphMailClient } from '../src/integrations/graph/mail-client.js';
import { loadSlaPolicy } from '../src/sla-config.js';
import { MailIntake } from '../src/services/mail/intake.js';
import { DEFAULT_ACK_TEMPLATE, OutgoingMail } from '../src/services/mail/outgoing.js';
import { TicketService } from '../src/services/tickets.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { MailSync } from '../src/workers/mail-sync.js';

/**
 * The ingest side of the mail benchmark, in its own process so its CPU time is its own (the fake
 * Graph runs in the parent). `ingest`: one delta round over the mailbox through the real client,
 * intake and store; prints where its database is. `baseline <that database>`: only writing the rows
 * that ingest wrote, copied as they are (same tables, columns and sizes), one transaction per message
 * as intake commits them, into a fresh database with the same schema. Prints one JSON line.
 */
const mode = process.argv[2] as 'ingest' | 'baseline';
const count = Number(process.env.BENCH_MESSAGES ?? 5000);
const path = join(mkdtempSync(join(tmpdir(), 'bench-mail-')), 'desk.db');
const database = openDatabase({ kind: 'sqlite', path });
await migrateToLatest(database.db);
const any = database.db as unknown as Kysely<any>;
const tables = await userTables(any);
/** Tables the migrations fill (counters): intake updates their rows rather than adding any. */
const seededByMigrations = new Set<string>();
for (const table of tables) if ((await countRows(any, table)) > 0) seededByMigrations.add(table);
const logger = createLogger('warn');
const loaded = loadSlaPolicy(undefined);
if (!loaded.ok) throw new Error(loaded.problems.join('; '));
const tickets = new TicketService({ database, sla: loaded.policy });

// Read the copy's source before the clock starts: the baseline times writing, not reading.
const source = mode === 'baseline' ? await readSource(process.argv[3]!) : undefined;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let requests = 0;
if (mode === 'ingest') {
  const client = new GraphMailClient({
    tenantId: 'contoso',
    clientId: process.env.GRAPH_CLIENT_ID!,
    clientSecret: process.env.GRAPH_CLIENT_SECRET!,
    mailbox: process.env.SUPPORT_MAILBOX!,
    baseUrl: process.env.GRAPH_BASE_URL!,
    authorityHost: process.env.AZURE_AUTHORITY_HOST!,
  }, { pageSize: 50 });
  const outgoing = new OutgoingMail({ acknowledge: true, ackTemplate: DEFAULT_ACK_TEMPLATE, ackMaxPerHour: 3, ackMaxPerHourTotal: 1_000_000, ownAddresses: [client.mailbox] });
  const intake = new MailIntake({
    database,
    tickets,
    outgoing,
    source: MailSync.source(client),
    options: { ownAddresses: [client.mailbox], reopenWindowMs: 7 * 86_400_000, attachmentMaxBytes: 1 << 20, attachmentDir: undefined },
    logger,
  });
  const sync = new MailSync({ database, client, intake, logger, options: { backfillMs: 7 * 86_400_000 } });
  await sync.round();
  if (sync.stats.lastError) throw new Error(sync.stats.lastError);
  requests = client.requests;
} else {
  const { rows, messages } = source!;
  // Message i gets its share of every table's rows, in id order: intake writes them message by message,
  // so a message's person, ticket, mail row, timeline entries and queued mail land together.
  for (let i = 0; i < messages; i++) {
    await any.transaction().execute(async (tx) => {
      for (const [table, all] of rows) {
        const share = all.slice(Math.floor((i * all.length) / messages), Math.floor(((i + 1) * all.length) / messages));
        if (share.length === 0) continue;
        if (seededByMigrations.has(table)) {
          for (const { __rowid, ...row } of share) await tx.updateTable(table).set(row).where(sql<number>`rowid`, '=', __rowid as number).execute();
        } else {
          await tx.insertInto(table).values(share.map(({ __rowid, ...row }) => row)).execute();
        }
      }
    });
  }
}
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const ingested = await countRows(any, 'tickets');
const written: Record<string, number> = {};
for (const table of tables) if (!seededByMigrations.has(table)) written[table] = await countRows(any, table);
process.stdout.write(`${JSON.stringify({ mode, ingested, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, requests, written, bytes: await tableBytes(any, tables), path })}\n`);
await database.close();

/** Every row of every table ingest wrote to, parents before children (foreign keys are on). */
async function readSource(sourcePath: string) {
  const from = openDatabase({ kind: 'sqlite', path: sourcePath });
  const db = from.db as unknown as Kysely<any>;
  const rows = new Map<string, Array<Record<string, unknown>>>();
  for (const table of await parentsFirst(db, tables)) {
    const all = await sql<Record<string, unknown>>`select rowid as __rowid, * from ${sql.table(table)} order by rowid`.execute(db);
    if (all.rows.length > 0) rows.set(table, all.rows);
  }
  const messages = await countRows(db, 'tickets');
  await from.close();
  return { rows, messages };
}

async function userTables(db: Kysely<any>): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(db);
  return result.rows.map((r) => r.name);
}

async function parentsFirst(db: Kysely<any>, names: string[]): Promise<string[]> {
  const parents = new Map<string, string[]>();
  for (const name of names) {
    const fks = await sql<{ table: string }>`select * from pragma_foreign_key_list(${name})`.execute(db);
    parents.set(name, fks.rows.map((f) => f.table).filter((t) => t !== name));
  }
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const parent of parents.get(name) ?? []) visit(parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered;
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const result = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(result.rows[0]!.n);
}

/** Bytes of data in the tables written (the sum of every column's length), to show the copy is the same size. */
async function tableBytes(db: Kysely<any>, names: string[]): Promise<number> {
  let total = 0;
  for (const name of names) {
    if (seededByMigrations.has(name)) continue;
    const columns = await sql<{ name: string }>`select name from pragma_table_info(${name})`.execute(db);
    if (columns.rows.length === 0) continue;
    const sum = columns.rows.map((c) => `coalesce(length(${JSON.stringify(c.name)}), 0)`).join(' + ');
    const result = await sql<{ n: number }>`select coalesce(sum(${sql.raw(sum)}), 0) as n from ${sql.table(name)}`.execute(db);
    total += Number(result.rows[0]!.n);
  }
  return total;
}
