import type { Db } from './database.js';

/**
 * Key/value rows for the bot's turn state, shared by every replica on the same database. Writes are
 * last-writer-wins: turn state here holds only conversational scratch data (tickets live in their own
 * tables under their own concurrency rules), and refusing a write on an eTag clash would fail a user's
 * turn for two quick messages in a row, the bug MemoryStorage has (teams-sdk issue 2540).
 */

export async function readState(db: Db, keys: readonly string[]): Promise<Map<string, { value: unknown; etag: string }>> {
  const found = new Map<string, { value: unknown; etag: string }>();
  if (keys.length === 0) return found;
  const rows = await db.selectFrom('bot_state').select(['key', 'value', 'etag']).where('key', 'in', [...keys]).execute();
  for (const row of rows) found.set(row.key, { value: JSON.parse(row.value), etag: row.etag });
  return found;
}

export async function writeState(db: Db, items: ReadonlyMap<string, unknown>, now: number): Promise<void> {
  if (items.size === 0) return;
  const rows = [...items].map(([key, value]) => ({
    key,
    value: JSON.stringify(value),
    etag: `${now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    updated_at: now,
  }));
  await db
    .insertInto('bot_state')
    .values(rows)
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        value: eb.ref('excluded.value'),
        etag: eb.ref('excluded.etag'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

export async function deleteState(db: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.deleteFrom('bot_state').where('key', 'in', [...keys]).execute();
}
