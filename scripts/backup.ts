import { chmodSync, closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parseDatabaseUrl } from '../src/config.js';

/**
 * `npm run backup -- <file>`: a consistent copy of the SQLite database, taken while the service runs
 * (SQLite's online backup: pages copied in steps, restarted when a write lands in between). Postgres
 * is backed up with its own tools; the README says how.
 */
const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: npm run backup -- <file>\n');
  process.exit(2);
}
const database = parseDatabaseUrl(process.env.DATABASE_URL);
if (typeof database === 'string') {
  process.stderr.write(`${database}\n`);
  process.exit(1);
}
if (database.kind !== 'sqlite' || database.path === ':memory:') {
  process.stderr.write(
    database.kind === 'postgres'
      ? 'DATABASE_URL is Postgres: use pg_dump, e.g. pg_dump --format=custom --file=desk.dump "$DATABASE_URL" (restore with pg_restore --clean --dbname=…).\n'
      : 'An in-memory database has nothing to back up.\n',
  );
  process.exit(1);
}
const source = new BetterSqlite3(database.path, { readonly: true, fileMustExist: true });
try {
  source.pragma('busy_timeout = 5000');
  const started = Date.now();
  // A backup holds everything the database does: readable by this user only, like the database.
  closeSync(openSync(resolve(target), 'a', 0o600));
  chmodSync(resolve(target), 0o600);
  await source.backup(resolve(target), {
    progress: ({ totalPages, remainingPages }) => {
      if (totalPages > 10_000) process.stdout.write(`\r${Math.round(((totalPages - remainingPages) / totalPages) * 100)}%`);
      return 1_000;
    },
  });
  const copy = new BetterSqlite3(resolve(target), { readonly: true });
  const { n } = copy.prepare('select count(*) as n from tickets').get() as { n: number };
  const check = copy.pragma('integrity_check', { simple: true });
  copy.close();
  process.stdout.write(`\rBacked up ${database.path} to ${resolve(target)} in ${Date.now() - started} ms: ${n} tickets, integrity ${check}.\nRestore: stop the service, copy the file over DATABASE_URL's path (removing any -wal and -shm files beside it), start it.\n`);
} catch (error) {
  process.stderr.write(`backup failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  source.close();
}
