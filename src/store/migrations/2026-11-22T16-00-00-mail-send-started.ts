import { type Kysely, sql } from 'kysely';

// Frozen in time (see the initial migration). When the sender last began to send a queued mail
// (sendMail, or a reply draft's send): a mail whose send began and was never marked sent may have
// gone out before a crash or a lost answer, so the next attempt looks in Sent Items first.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('send_started_at', 'bigint').execute();
  // Mail already tried and still pending may have been sent by an attempt before this column existed:
  // it is looked up first too. (The time is unknown; when it was queued stands in for it.)
  await db.updateTable('mail_outbox').set({ send_started_at: sql`created_at` }).where('status', '=', 'pending').where('attempts', '>', 0).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('send_started_at').execute();
}
