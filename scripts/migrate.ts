import { parseDatabaseUrl } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (the service also does this at start). */
const database = parseDatabaseUrl(process.env.DATABASE_URL);
if (typeof database === 'string') {
  process.stderr.write(`${database}\n`);
  process.exit(1);
}
const store = openDatabase(database);
try {
  const applied = await migrateToLatest(store.db);
  const where = database.kind === 'sqlite' ? database.path : new URL(database.url).host;
  process.stdout.write(applied.length > 0 ? `Applied ${applied.length} migration(s) to ${where}:\n${applied.map((m) => `  ${m}`).join('\n')}\n` : `${where} is up to date.\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
