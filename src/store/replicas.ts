import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from './database.js';

/** How often a replica writes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * A replica that has not beaten for three beats is presumed dead: the work it had claimed may be taken
 * over at once, without waiting for the claim's lease to run out (a minute or two). Three beats, so one
 * slow beat (a busy event loop, a slow commit) is not taken for a death; leases of a live replica are
 * never taken.
 */
export const DEAD_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;

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

/** Every replica the table knows, with its last heartbeat. */
export async function replicaHeartbeats(db: Db): Promise<Array<{ id: string; heartbeatAt: number }>> {
  const rows = await db.selectFrom('replicas').select(['id', 'heartbeat_at']).execute();
  return rows.map((r) => ({ id: r.id, heartbeatAt: Number(r.heartbeat_at) }));
}

export async function leave(db: Db, id: string): Promise<void> {
  await db.deleteFrom('replicas').where('id', '=', id).execute();
}

/**
 * True for a row whose lease owner (the column `ownerColumn`, holding a replica id) is a replica that
 * stopped beating `deadAfterMs` ago. An owner the table does not know (a worker without a heartbeat,
 * or a replica forgotten long after its leases ran out) is not taken for dead: its lease runs out instead.
 */
export function ownerIsDead(ownerColumn: string, now: number, deadAfterMs = DEAD_AFTER_MS): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from replicas where replicas.id = ${sql.ref(ownerColumn)} and replicas.heartbeat_at < ${now - deadAfterMs})`;
}

/** A lease that may be taken: none, run out, or held by a dead replica (see `ownerIsDead`). */
export function leaseIsFree(columns: { until: string; owner: string }, now: number, deadAfterMs = DEAD_AFTER_MS): Expression<SqlBool> {
  const until = sql.ref(columns.until);
  return sql<SqlBool>`(${until} is null or ${until} <= ${now} or ${ownerIsDead(columns.owner, now, deadAfterMs)})`;
}
