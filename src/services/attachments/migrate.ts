import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { AttachmentStore } from '../../integrations/storage/port.js';
import { rowContent, rowsOutside, switchRow, type ContentRow, type ContentTable } from '../../store/attachment-objects.js';
import type { Db } from '../../store/database.js';
import type { AttachmentStores } from './stores.js';

/**
 * Moves every kept attachment into `target` while the service runs (`npm run attachments -- migrate`):
 * for each row, copy its bytes to the target, check the size (and the hash, when the row has one), then
 * point the row at the copy with one conditional update (only if it is still where it was read from:
 * the service may have purged it meanwhile), and only then remove the old copy if no live row names it.
 * Downloads go on throughout: a row names a complete copy at every moment. Running it again skips what
 * was moved, so it can be stopped and resumed.
 */
export interface MigrationReport {
  moved: number;
  bytes: number;
  /** Rows skipped because they changed meanwhile (purged, or moved by another run). */
  skipped: number;
  failed: Array<{ row: string; reason: string }>;
}

export async function migrateAttachments(deps: { db: Db; stores: AttachmentStores; target: AttachmentStore; batch?: number; progress?: (line: string) => void }): Promise<MigrationReport> {
  const report: MigrationReport = { moved: 0, bytes: 0, skipped: 0, failed: [] };
  const target = deps.target;
  for (const table of ['mail_attachments', 'ticket_attachments'] as ContentTable[]) {
    let afterId = 0;
    for (;;) {
      const rows = await rowsOutside(deps.db, table, target.name, afterId, deps.batch ?? 100);
      if (rows.length === 0) break;
      for (const row of rows) {
        afterId = row.id;
        const label = `${table === 'mail_attachments' ? 'e' : 't'}${row.id}`;
        try {
          const outcome = await moveOne(deps.db, deps.stores, target, row);
          if (outcome === 'skipped') report.skipped++;
          else {
            report.moved++;
            report.bytes += row.size;
          }
          deps.progress?.(`${outcome === 'skipped' ? 'skipped' : 'moved'} ${label} (${row.store ?? `legacy ${row.storage}`} → ${target.name}, ${row.size} bytes)`);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          report.failed.push({ row: label, reason });
          deps.progress?.(`FAILED ${label}: ${reason}`);
        }
      }
    }
  }
  return report;
}

async function moveOne(db: Db, stores: AttachmentStores, target: AttachmentStore, row: ContentRow): Promise<'moved' | 'skipped'> {
  const source = await openSource(db, stores, row);
  if (!source) throw new Error('its contents are missing from their store');
  // The row's size is the file's: a copy of any other size is refused (and removed).
  const put = await target.put(source, { maxBytes: row.size });
  const release = () => stores.release(target.name, put.key);
  if (!put.created) await stores.reused(target.name, put.key);
  if (put.size !== row.size || (row.contentKey !== null && put.key !== row.contentKey)) {
    if (put.created) await release();
    throw new Error(`the copy does not match (size ${put.size} of ${row.size}${row.contentKey && put.key !== row.contentKey ? ', another hash' : ''})`);
  }
  if (!(await switchRow(db, row, target.name, put.key, put.sniffedType))) {
    if (put.created) await release();
    return 'skipped';
  }
  if (row.store && row.contentKey) await stores.release(row.store, row.contentKey);
  else if (row.storage === 'file' && row.location) await unlink(row.location).catch(() => undefined);
  return 'moved';
}

async function openSource(db: Db, stores: AttachmentStores, row: ContentRow): Promise<Readable | null> {
  if (row.store && row.contentKey) {
    const store = stores.get(row.store);
    if (!store) throw new Error(`the ${row.store} store has no settings here`);
    return store.get(row.contentKey);
  }
  if (row.storage === 'file') return row.location ? createReadStream(row.location) : null;
  const bytes = await rowContent(db, row.table, row.id);
  return bytes ? Readable.from([Buffer.from(bytes)]) : null;
}
