import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). A message can be held until a time (quiet hours) apart
// from being due again after a failure: a held message waits without holding up the conversation's
// queue, while one being retried or waiting for a rate limit keeps its place in the order.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('hold_until', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('hold_until').execute();
}
