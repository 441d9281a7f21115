import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Email: every message seen (received or sent) under its
// unique Message-ID, which is what makes intake exactly-once and threading by In-Reply-To possible;
// attachments; the mailbox cursor and subscription; and mail waiting to be sent (an outbox of its own,
// as mail has its own peer, limits and retries).

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);

  await db.schema
    .createTable('mail_messages')
    .addColumn('id', id.type as any, id.build)
    .addColumn('internet_message_id', 'text', (c) => c.notNull().unique())
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('in', 'out')`))
    .addColumn('mailbox_id', 'text')
    .addColumn('ticket_id', 'bigint', (c) => c.references('tickets.id'))
    .addColumn('conversation_id', 'text')
    .addColumn('from_address', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('disposition', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('headers', 'text')
    .addColumn('body_type', 'text')
    .addColumn('body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_messages_ticket').on('mail_messages').columns(['ticket_id', 'received_at']).execute();
  await db.schema.createIndex('mail_messages_conversation').on('mail_messages').columns(['conversation_id', 'received_at']).execute();

  await db.schema
    .createTable('mail_attachments')
    .addColumn('id', id.type as any, id.build)
    .addColumn('mail_message_id', 'bigint', (c) => c.notNull().references('mail_messages.id'))
    .addColumn('ticket_id', 'bigint', (c) => c.references('tickets.id'))
    .addColumn('source_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('inline', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('content_id', 'text')
    .addColumn('storage', 'text', (c) => c.notNull().check(sql`storage in ('database', 'file', 'link')`))
    .addColumn('content', postgres ? 'bytea' : 'blob')
    .addColumn('location', 'text')
    .addColumn('purged_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_attachments_message').on('mail_attachments').column('mail_message_id').execute();
  await db.schema.createIndex('mail_attachments_ticket').on('mail_attachments').column('ticket_id').execute();

  await db.schema
    .createTable('mail_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', id.type as any, id.build)
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('reply', 'acknowledgement')`))
    .addColumn('automatic', 'integer', (c) => c.notNull())
    .addColumn('in_reply_to', 'bigint', (c) => c.references('mail_messages.id'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('to_name', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('author_id', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'sent', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('last_error', 'text')
    .addColumn('draft_id', 'text')
    .addColumn('internet_message_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('mail_outbox_ticket_token').on('mail_outbox').columns(['ticket_id', 'token']).execute();
  await db.schema.createIndex('mail_outbox_recipient').on('mail_outbox').columns(['to_address', 'kind', 'created_at']).execute();

  // Contacts are found by address whatever its case.
  await sql`create index people_email_lower on people (lower(email))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists people_email_lower`.execute(db);
  for (const table of ['mail_outbox', 'mail_state', 'mail_attachments', 'mail_messages']) await db.schema.dropTable(table).execute();
}
