import type { Db } from './database.js';

/**
 * The rows that name an object in an attachment store (src/integrations/storage/): email attachments
 * and files from Teams. An object may be deleted only when no row that still has its contents (not
 * purged by retention) names it: identical files share one object.
 */

export type StoreName = 'database' | 'folder' | 'azure' | 's3';
const TABLES = ['mail_attachments', 'ticket_attachments'] as const;
export type ContentTable = (typeof TABLES)[number];

/** How many live rows name `key` in `store`. */
export async function objectReferences(db: Db, store: StoreName, key: string): Promise<number> {
  let total = 0;
  for (const table of TABLES) {
    const row = await db
      .selectFrom(table as 'mail_attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store', '=', store)
      .where('content_key', '=', key)
      .where('purged_at', 'is', null)
      .executeTakeFirstOrThrow();
    total += Number(row.n);
  }
  return total;
}

/** A row whose contents are kept (not a link, not purged), as migration and `status` see it. */
export interface ContentRow {
  table: ContentTable;
  id: number;
  size: number;
  storage: 'database' | 'file';
  store: StoreName | null;
  contentKey: string | null;
  location: string | null;
}

/** Live rows of one table not yet in `target`, by id after `afterId`. */
export async function rowsOutside(db: Db, table: ContentTable, target: StoreName, afterId: number, limit: number): Promise<ContentRow[]> {
  const rows = await db
    .selectFrom(table as 'mail_attachments')
    .select(['id', 'size', 'storage', 'store', 'content_key', 'location'])
    .where('id', '>', afterId)
    .where('purged_at', 'is', null)
    .where('storage', 'in', ['database', 'file'])
    .where((eb) => eb.or([eb('store', 'is', null), eb('store', '!=', target)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ table, id: Number(r.id), size: Number(r.size), storage: r.storage as ContentRow['storage'], store: r.store, contentKey: r.content_key, location: r.location }));
}

/**
 * Points a row at its copy in `target`, if it still is where the caller read it from (the service may
 * have purged or moved it meanwhile): returns whether it was switched.
 */
export async function switchRow(db: Db, row: ContentRow, target: StoreName, key: string, sniffedType: string | null): Promise<boolean> {
  const t = row.table as 'mail_attachments';
  let update = db
    .updateTable(t)
    .set({ store: target, content_key: key, storage: target === 'database' ? 'database' : 'file', content: null, location: null, sniffed_type: sniffedType })
    .where('id', '=', row.id)
    .where('purged_at', 'is', null);
  update = row.store === null ? update.where('store', 'is', null) : update.where('store', '=', row.store).where('content_key', '=', row.contentKey);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The bytes kept in a row from before the stores (storage 'database'), or null. */
export async function rowContent(db: Db, table: ContentTable, id: number): Promise<Uint8Array | null> {
  const row = await db.selectFrom(table as 'mail_attachments').select('content').where('id', '=', id).executeTakeFirst();
  return row?.content ?? null;
}

/** Live attachment contents per store (`legacy-database`/`legacy-file` for rows from before the stores): count and bytes. */
export async function contentsPerStore(db: Db): Promise<Array<{ store: string; rows: number; bytes: number }>> {
  const totals = new Map<string, { rows: number; bytes: number }>();
  for (const table of TABLES) {
    const rows = await db
      .selectFrom(table as 'mail_attachments')
      .select(['store', 'storage', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('size').as('bytes')])
      .where('purged_at', 'is', null)
      .where('storage', 'in', ['database', 'file'])
      .groupBy(['store', 'storage'])
      .execute();
    for (const r of rows) {
      const name = r.store ?? `legacy-${r.storage}`;
      const sum = totals.get(name) ?? { rows: 0, bytes: 0 };
      totals.set(name, { rows: sum.rows + Number(r.n), bytes: sum.bytes + Number(r.bytes ?? 0) });
    }
  }
  return [...totals].map(([store, v]) => ({ store, ...v })).sort((a, b) => a.store.localeCompare(b.store));
}

/** Marks an object unused since `now` (an earlier mark stays: the object has been unused since then). */
export async function markReleased(db: Db, store: StoreName, key: string, now: number): Promise<void> {
  await db.insertInto('released_objects').values({ store, key, released_at: now }).onConflict((oc) => oc.columns(['store', 'key']).doNothing()).execute();
}

/** The object is in use again (a save reused it): no sweep deletes it on an old mark. */
export async function clearReleased(db: Db, store: StoreName, key: string): Promise<void> {
  await db.deleteFrom('released_objects').where('store', '=', store).where('key', '=', key).execute();
}

/** Objects marked unused at or before `before`, oldest first. */
export async function releasedBefore(db: Db, before: number, limit: number): Promise<Array<{ store: StoreName; key: string }>> {
  return db.selectFrom('released_objects').select(['store', 'key']).where('released_at', '<=', before).orderBy('released_at').limit(limit).execute();
}
