import { parseDatabaseUrl } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { dropQuarantined, listQuarantined, requestRetry, type MailAttempt } from '../src/store/mail-quarantine.js';

/**
 * `npm run mail -- quarantine`: received email the desk set aside because reading it failed, ran out
 * of time or stopped the service, twice. `npm run mail -- retry <id>` asks the running service to fetch
 * it from the mailbox again and give it one more attempt (at its next mailbox round); `… drop <id>`
 * gives up on it for good. Safe while the service runs. Exit codes: 0 done, 1 refused or failed, 2 usage.
 */
const USAGE = 'use: npm run mail -- quarantine | npm run mail -- retry <id> | npm run mail -- drop <id>';

const database = parseDatabaseUrl(process.env.DATABASE_URL);
if (typeof database === 'string') {
  process.stderr.write(`${database}\n`);
  process.exit(1);
}
const [command = 'quarantine', ...args] = process.argv.slice(2);
if (!['quarantine', 'list', 'retry', 'drop'].includes(command)) {
  process.stderr.write(`unknown command "${command}": ${USAGE}\n`);
  process.exit(2);
}
if ((command === 'retry' || command === 'drop') && (args.length !== 1 || !/^\d+$/.test(args[0]!))) {
  process.stderr.write(`${command} takes one quarantine id (a number; see npm run mail -- quarantine): ${USAGE}\n`);
  process.exit(2);
}

const store = openDatabase(database);
try {
  await migrateToLatest(store.db);
  if (command === 'retry' || command === 'drop') {
    const id = Number(args[0]);
    const changed = command === 'retry' ? await requestRetry(store.db, id, Date.now()) : await dropQuarantined(store.db, id, Date.now());
    if (!changed.ok) throw new Error(`${changed.problem}; see npm run mail -- quarantine for the ids`);
    const what = describe(changed.attempt);
    process.stdout.write(
      command === 'retry'
        ? `Email ${id} (${what}) will be read again by the running service at its next mailbox round (within GRAPH_POLL_INTERVAL, or when it starts). If it fails again it is quarantined again.\n`
        : `Email ${id} (${what}) is dropped: it will not be read again. It stays in the mailbox.\n`,
    );
  } else {
    const rows = await listQuarantined(store.db, 100);
    const waiting = rows.filter((r) => r.state === 'retry').length;
    process.stdout.write(`Quarantined email: ${rows.length - waiting}${waiting ? ` (and ${waiting} waiting to be read again)` : ''}.\n`);
    for (const r of rows) {
      const when = new Date(r.quarantinedAt ?? r.updatedAt).toISOString();
      process.stdout.write(`  ${r.id}  ${when}  ${r.state === 'retry' ? '[retry asked] ' : ''}from ${r.fromAddress ?? '(unknown)'}  "${r.subject || '(no subject)'}"  ${r.attempts} attempt(s)\n`);
      process.stdout.write(`      why: ${(r.reason ?? '').split('\n')[0]}\n`);
    }
    if (rows.length > waiting) process.stdout.write('Read one again with: npm run mail -- retry <id>   Give one up with: npm run mail -- drop <id>\n');
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}

function describe(attempt: MailAttempt): string {
  return `from ${attempt.fromAddress ?? '(unknown)'}, "${attempt.subject || '(no subject)'}"`;
}
