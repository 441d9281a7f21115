import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). The correlation id of the work that queued a message
// (see log-context.ts), so the worker that sends it later logs under the same id.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('correlation_id', 'text').execute();
  await db.schema.alterTable('mail_outbox').addColumn('correlation_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('correlation_id').execute();
  await db.schema.alterTable('outbox').dropColumn('correlation_id').execute();
}
