import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). `tracked_issues.changed_at`: when the tracker last changed
// the issue (Linear's `updatedAt`, Jira's `fields.updated`), epoch ms; null until the tracker says. A
// webhook or poll not newer than it is an old view of the issue (a retried delivery arriving after a
// newer one) and is not applied: without it an old state would be written back, and the newer one's
// status-map actions run twice.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tracked_issues').addColumn('changed_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tracked_issues').dropColumn('changed_at').execute();
}
