import { parseDatabaseUrl } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { countDeadLetters, listDeadLetters, redrive, type OutboxName } from '../src/store/dead-letters.js';

/**
 * `npm run outbox`: what is dead-lettered (Teams, email, ticket events to integrations), and
 * `npm run outbox -- retry [teams:<id>|mail:<id>|events:<id> …]`
 * to send it again (all of it when no ids are given). Safe while the service runs.
 */
const database = parseDatabaseUrl(process.env.DATABASE_URL);
if (typeof database === 'string') {
  process.stderr.write(`${database}\n`);
  process.exit(1);
}
const [command = 'list', ...args] = process.argv.slice(2);
const store = openDatabase(database);
try {
  await migrateToLatest(store.db);
  if (command === 'retry') {
    const ids = args.map((arg) => {
      const match = /^(teams|mail|events):(\d+)$/.exec(arg);
      if (!match) throw new Error(`"${arg}" is not teams:<id>, mail:<id> or events:<id> (see npm run outbox for the ids)`);
      return { outbox: match[1] as OutboxName, id: Number(match[2]) };
    });
    const moved = await redrive(store.db, ids.length > 0 ? { ids } : { all: true }, Date.now());
    process.stdout.write(`${moved} dead-lettered message(s) queued again; the running service sends them within a poll interval.\n`);
  } else if (command === 'list') {
    const counts = await countDeadLetters(store.db);
    const rows = await listDeadLetters(store.db, 50);
    process.stdout.write(`Dead-lettered: ${counts.teams} Teams message(s), ${counts.mail} email(s), ${counts.events} event(s) to integrations.\n`);
    for (const r of rows) {
      process.stdout.write(`  ${r.outbox}:${r.id}  ${r.target ? `to ${r.target}  ` : ''}ticket ${r.ticketId ?? '-'}  ${r.attempts} attempts  ${new Date(r.createdAt).toISOString()}  ${r.key}\n      ${(r.lastError ?? '').split('\n')[0]}\n`);
    }
    if (rows.length > 0) process.stdout.write('Send them again with: npm run outbox -- retry   (or name some: npm run outbox -- retry teams:12 mail:3 events:7)\n');
  } else {
    throw new Error(`unknown command "${command}": use npm run outbox, or npm run outbox -- retry [teams:<id>|mail:<id> …]`);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
