import type { Db } from './database.js';

/** Records this replica as alive now and returns how many are alive (heartbeat within `liveMs`). */
export async function beat(db: Db, id: string, now: number, liveMs: number): Promise<number> {
  await db
    .insertInto('replicas')
    .values({ id, started_at: now, heartbeat_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
    .execute();
  // Replicas that stopped beating long ago are forgotten.
  await db.deleteFrom('replicas').where('heartbeat_at', '<', now - 10 * liveMs).execute();
  const row = await db.selectFrom('replicas').select((eb) => eb.fn.countAll<number>().as('n')).where('heartbeat_at', '>=', now - liveMs).executeTakeFirstOrThrow();
  return Math.max(1, Number(row.n));
}

export async function leave(db: Db, id: string): Promise<void> {
  await db.deleteFrom('replicas').where('id', '=', id).execute();
}
