import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Desk events on their way to targets outside Teams
// (webhooks, PagerDuty, Slack): one row per event and target, written in the transaction of the change
// that caused the event, with the outbox's state machine (pending → sent | dead, leases, attempts).
// `first_attempt_at` bounds retrying in time (a webhook is retried for 24 hours), not in attempts.
// `integration_posts`: what a target posted about a ticket (a Slack message, a PagerDuty alert), so the
// ticket's later events follow it up (update the message, acknowledge or resolve the alert).

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);

  await db.schema
    .createTable('event_deliveries')
    .addColumn('id', id.type as any, id.build)
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'bigint')
    .addColumn('matched', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'sent', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('first_attempt_at', 'bigint')
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('last_error', 'text')
    .addColumn('result', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('correlation_id', 'text')
    .execute();
  await db.schema.createIndex('event_deliveries_due').on('event_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('event_deliveries_lane').on('event_deliveries').columns(['target', 'ticket_id', 'status']).execute();
  await db.schema.createIndex('event_deliveries_ticket').on('event_deliveries').columns(['ticket_id', 'matched']).execute();
  await db.schema.createIndex('event_deliveries_sent').on('event_deliveries').columns(['status', 'sent_at']).execute();

  await db.schema
    .createTable('integration_posts')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'bigint', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('integration_posts_pk', ['target', 'ticket_id'])
    .execute();
  await db.schema.createIndex('integration_posts_ticket').on('integration_posts').column('ticket_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('integration_posts').execute();
  await db.schema.dropTable('event_deliveries').execute();
}
