import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Files people hand the bot in Teams (a file in a personal
// chat, an inline screenshot, a channel file shared as a SharePoint link), kept on their ticket beside
// the attachments of its email (mail_attachments): both are listed and served together
// (src/store/ticket-attachments.ts). `visibility` follows the message that brought the file: a file
// sent with an internal note is for agents only.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);

  await db.schema
    .createTable('ticket_attachments')
    .addColumn('id', id.type as any, id.build)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id'))
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('teams-file', 'teams-image', 'teams-link')`))
    .addColumn('source_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull().check(sql`visibility in ('public', 'internal')`))
    .addColumn('author_id', 'bigint', (c) => c.references('people.id'))
    .addColumn('storage', 'text', (c) => c.notNull().check(sql`storage in ('database', 'file', 'link')`))
    .addColumn('content', postgres ? 'bytea' : 'blob')
    .addColumn('location', 'text')
    .addColumn('purged_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_attachments_ticket').on('ticket_attachments').column('ticket_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ticket_attachments').execute();
}
