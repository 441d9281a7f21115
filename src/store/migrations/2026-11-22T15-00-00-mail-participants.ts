import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Who may write on a ticket by email: the people on its
// mail thread (senders and recipients of the mail filed under it), each flagged once our mail to them
// bounced. Received mail keeps the sender check that failed (a spoofed agent or colleague), and queued
// replies their Cc line.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mail_participants')
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addColumn('bounced_at', 'bigint')
    .addColumn('bounce_reason', 'text')
    .addPrimaryKeyConstraint('mail_participants_pk', ['ticket_id', 'address'])
    .execute();
  await db.schema.alterTable('mail_messages').addColumn('sender_check', 'text').execute();
  await db.schema.alterTable('mail_outbox').addColumn('cc', 'text').execute();
  // The desk-wide hourly cap on acknowledgements counts them by kind and time.
  await db.schema.createIndex('mail_outbox_kind_created').on('mail_outbox').columns(['kind', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('mail_outbox_kind_created').execute();
  await db.schema.alterTable('mail_outbox').dropColumn('cc').execute();
  await db.schema.alterTable('mail_messages').dropColumn('sender_check').execute();
  await db.schema.dropTable('mail_participants').execute();
}
