import { parseConfig } from '../src/config.js';
import { openAttachmentStores, storeNamed } from '../src/integrations/storage/open.js';
import { STORE_NAMES, type StoreName } from '../src/integrations/storage/port.js';
import { migrateAttachments } from '../src/services/attachments/migrate.js';
import { AttachmentStores } from '../src/services/attachments/stores.js';
import { contentsPerStore } from '../src/store/attachment-objects.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';

/**
 * `npm run attachments -- status`: attachment contents per store (rows and bytes).
 * `npm run attachments -- migrate --to <database|folder|azure|s3>`: moves every kept attachment into
 * that store while the service runs (src/services/attachments/migrate.ts), with a line per file.
 * Run with the service's environment plus the target's settings; give the service the target's
 * settings too (it reads from every store it has settings for), then switch ATTACHMENT_STORE.
 */
const [command = 'status', ...args] = process.argv.slice(2);
const parsed = parseConfig(process.env);
if (!parsed.ok) {
  process.stderr.write(`The configuration is not valid:\n  ${parsed.problems.join('\n  ')}\n`);
  process.exit(1);
}
const config = parsed.config;
const database = openDatabase(config.database);
try {
  await migrateToLatest(database.db);
  if (command === 'status') {
    const rows = await contentsPerStore(database.db);
    process.stdout.write(`Attachment contents (new files go to ${config.files.store.kind}):\n`);
    if (rows.length === 0) process.stdout.write('  none kept yet\n');
    for (const r of rows) process.stdout.write(`  ${r.store.padEnd(16)} ${String(r.rows).padStart(8)} file(s) ${String(r.bytes).padStart(14)} bytes\n`);
  } else if (command === 'migrate') {
    const to = args[args.indexOf('--to') + 1] as StoreName | undefined;
    if (args.indexOf('--to') < 0 || !to || !STORE_NAMES.includes(to)) throw new Error(`usage: npm run attachments -- migrate --to <${STORE_NAMES.join('|')}>`);
    const opened = openAttachmentStores(config.files.store, database.db);
    const target = storeNamed(opened.all, to);
    if (!target) throw new Error(`the ${to} store has no settings here: set them (see the README's Configuration table) and run again`);
    const stores = new AttachmentStores(database.db, opened.primary, opened.all);
    process.stdout.write(`Moving attachment contents to ${target.describe()}…\n`);
    const report = await migrateAttachments({ db: database.db, stores, target, progress: (line) => process.stdout.write(`  ${line}\n`) });
    process.stdout.write(`Moved ${report.moved} file(s), ${report.bytes} bytes; ${report.skipped} changed meanwhile and were left; ${report.failed.length} failed.\n`);
    if (report.failed.length > 0) {
      process.stdout.write('Run it again to retry the ones that failed (moved ones are skipped).\n');
      process.exitCode = 1;
    } else if (config.files.store.kind !== to) process.stdout.write(`Now set ATTACHMENT_STORE=${to} on the service so new files go there too.\n`);
  } else {
    throw new Error(`unknown command "${command}": use npm run attachments -- status, or npm run attachments -- migrate --to <store>`);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
