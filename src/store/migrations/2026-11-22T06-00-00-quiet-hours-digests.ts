import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Per-person quiet hours (minutes after local midnight; a
// range may wrap past midnight), and the daily digests already sent, one per recipient and local day.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('people').addColumn('quiet_from', 'integer').execute();
  await db.schema.alterTable('people').addColumn('quiet_until', 'integer').execute();
  await db.schema
    .createTable('digests')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('digests_pk', ['recipient', 'day'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('digests').execute();
  await db.schema.alterTable('people').dropColumn('quiet_until').execute();
  await db.schema.alterTable('people').dropColumn('quiet_from').execute();
}
