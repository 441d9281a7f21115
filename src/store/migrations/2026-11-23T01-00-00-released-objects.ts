import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Objects of the attachment stores that no row named when
// they were released: deleted by a later sweep once unused for a grace period, not at once, because a
// save that reused the same bytes may not have inserted its row yet (src/services/attachments/stores.ts).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('released_objects')
    .addColumn('store', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('released_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('released_objects_pk', ['store', 'key'])
    .execute();
  await db.schema.createIndex('released_objects_released_at').on('released_objects').column('released_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('released_objects').execute();
}
