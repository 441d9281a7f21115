import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). SLA clocks on tickets: the customer tier that picks the
// targets, both clocks' state (target, business time used, running since, met at) as JSON, the
// earliest due time of a running clock for the "breaching" list, and the instant the SLA sweep next
// needs to look at the ticket, indexed so a sweep touches only what is due.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tickets').addColumn('tier', 'text', (c) => c.notNull().defaultTo('standard')).execute();
  await db.schema.alterTable('tickets').addColumn('sla_clocks', 'text').execute();
  await db.schema.alterTable('tickets').addColumn('first_response_due_at', 'bigint').execute();
  await db.schema.alterTable('tickets').addColumn('resolution_due_at', 'bigint').execute();
  await db.schema.alterTable('tickets').addColumn('sla_due_at', 'bigint').execute();
  await db.schema.alterTable('tickets').addColumn('next_sla_check_at', 'bigint').execute();
  await db.schema.createIndex('tickets_sla_due').on('tickets').columns(['is_open', 'sla_due_at']).execute();
  await db.schema.createIndex('tickets_next_sla_check').on('tickets').column('next_sla_check_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_next_sla_check').execute();
  await db.schema.dropIndex('tickets_sla_due').execute();
  for (const column of ['next_sla_check_at', 'sla_due_at', 'resolution_due_at', 'first_response_due_at', 'sla_clocks', 'tier']) {
    await db.schema.alterTable('tickets').dropColumn(column).execute();
  }
}
