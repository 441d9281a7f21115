import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Live service replicas, by heartbeat: budgets shared by all
// replicas (Teams' per-tenant send rate) are split between the ones alive.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('replicas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('replicas').execute();
}
