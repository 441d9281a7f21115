import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/logger.js';
import { GraphMailClient } from '../src/integrations/graph/mail-client.js';
import { loadSlaPolicy } from '../src/sla-config.js';
import { MailIntake } from '../src/services/mail/intake.js';
import { DEFAULT_ACK_TEMPLATE, OutgoingMail } from '../src/services/mail/outgoing.js';
import { TicketService } from '../src/services/tickets.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { recordMail } from '../src/store/mail.js';
import { contactByEmail } from '../src/store/people.js';
import { insertTicket } from '../src/store/tickets.js';
import { addTimelineEntry } from '../src/store/timeline.js';
import { MailSync } from '../src/workers/mail-sync.js';
import { slaColumns, startClocks } from '../src/domain/ticket-sla.js';

/**
 * The ingest side of the mail benchmark, in its own process so its CPU time is its own (the fake
 * Graph runs in the parent). `ingest`: one delta round over the mailbox through the real client,
 * intake and store. `baseline`: only inserting the rows intake writes for the same messages.
 * Prints one JSON line.
 */
const mode = process.argv[2] as 'ingest' | 'baseline';
const count = Number(process.env.BENCH_MESSAGES ?? 5000);
const database = openDatabase({ kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'bench-mail-')), 'desk.db') });
await migrateToLatest(database.db);
const logger = createLogger('warn');
const loaded = loadSlaPolicy(undefined);
if (!loaded.ok) throw new Error(loaded.problems.join('; '));
const tickets = new TicketService({ database, sla: loaded.policy });

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
  const outgoing = new OutgoingMail({ acknowledge: true, ackTemplate: DEFAULT_ACK_TEMPLATE, ackMaxPerHour: 3 });
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
  const now = Date.now();
  const subject = { priority: 'P3' as const, tier: loaded.policy.defaultTier, teamId: null };
  for (let i = 0; i < count; i++) {
    await database.db.transaction().execute(async (tx) => {
      const person = await contactByEmail(tx, { email: `customer${i}@fabrikam.example`, name: `Customer ${i}` }, now);
      const mailId = await recordMail(tx, { internetMessageId: `<m${i}@fabrikam.example>`, direction: 'in', mailboxId: `m${i}`, ticketId: null, conversationId: `c${i}`, fromAddress: person.email, subject: `Problem ${i}`, receivedAt: now, disposition: 'ticket', reason: 'new', headers: [], body: { type: 'text', content: 'x' } }, now);
      const ticket = await insertTicket(tx, { type: 'incident', subject: `Problem ${i}`, description: 'x', priority: 'P3', requesterId: person.id, teamId: null, source: 'email', tier: 'standard', sla: slaColumns(loaded.policy, subject, startClocks(loaded.policy, subject, now), now) }, now);
      await tx.updateTable('mail_messages').set({ ticket_id: ticket.id }).where('id', '=', mailId!).execute();
      await addTimelineEntry(tx, { ticketId: ticket.id, at: now, kind: 'created', visibility: 'public', authorId: person.id, body: `Problem ${i}` });
    });
  }
}
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const ingested = Number((await database.db.selectFrom('tickets').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
process.stdout.write(`${JSON.stringify({ mode, ingested, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, requests })}\n`);
await database.close();
