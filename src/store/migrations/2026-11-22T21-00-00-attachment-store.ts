import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen in time (see the initial migration). Attachment contents in a store chosen by ATTACHMENT_STORE
// (the database, a folder, Azure Blob Storage, S3), under content-addressed keys (the SHA-256 of the
// bytes, so identical files are kept once): each attachment row names its store and key, and an object
// is deleted only when no row that is not purged names it any more (src/store/attachment-objects.ts).
// Rows from before keep `storage`/`content`/`location` as they were and stay readable; `npm run
// attachments -- migrate` moves them. `declared_type` is what the sender said, `sniffed_type` what the
// bytes are (content_type is the type the desk serves). `attachment_blobs` holds the database store's
// objects in chunks of at most 1 MiB, so neither writing nor reading one needs it whole in memory.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of ['mail_attachments', 'ticket_attachments']) {
    for (const column of ['store', 'content_key', 'declared_type', 'sniffed_type']) await db.schema.alterTable(table).addColumn(column, 'text').execute();
    await db.schema.createIndex(`${table}_content_key`).on(table).columns(['store', 'content_key']).execute();
  }
  await db.schema
    .createTable('attachment_blobs')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('content', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('attachment_blobs_pk', ['key', 'seq'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('attachment_blobs').execute();
  for (const table of ['mail_attachments', 'ticket_attachments']) {
    await db.schema.dropIndex(`${table}_content_key`).execute();
    for (const column of ['store', 'content_key', 'declared_type', 'sniffed_type']) await db.schema.alterTable(table).dropColumn(column).execute();
  }
}
