import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Each received email is written down as "in progress"
// before intake reads it, so one that crashed or hung the process is recognised at the next start
// instead of being read again and again; one that failed twice is quarantined here for an admin to
// retry or drop (see store/mail-quarantine.ts).

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);

  await db.schema
    .createTable('mail_intake_attempts')
    .addColumn('id', id.type as any, id.build)
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('mailbox_id', 'text', (c) => c.notNull())
    .addColumn('internet_message_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text')
    .addColumn('received_at', 'bigint')
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('in-progress', 'failed', 'quarantined', 'retry', 'dropped')`))
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('reason', 'text')
    .addColumn('quarantined_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('mail_intake_attempts_message', ['mailbox', 'mailbox_id'])
    .execute();
  await db.schema.createIndex('mail_intake_attempts_state').on('mail_intake_attempts').columns(['state', 'mailbox']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_intake_attempts').execute();
}
