import { sql, type Kysely } from 'kysely';

// Frozen in time (see the initial migration). Which replica's sweep claimed a ticket's SLA check, so a
// survivor can take the check over as soon as that replica stops beating, not when the claim runs out.
// The partial index finds the few checks under way without reading every ticket.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tickets').addColumn('sla_check_owner', 'text').execute();
  await db.schema.createIndex('tickets_sla_check_owner').on('tickets').column('sla_check_owner').where(sql.ref('sla_check_owner'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_sla_check_owner').execute();
  await db.schema.alterTable('tickets').dropColumn('sla_check_owner').execute();
}
