import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Reports ask "resolved since", "created before" and
// "breached since": without these, `report` and every digest would read the whole tickets table.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('tickets_resolved_at').on('tickets').column('resolved_at').execute();
  await db.schema.createIndex('tickets_created_at').on('tickets').column('created_at').execute();
  await db.schema.createIndex('sla_events_kind_at').on('sla_events').columns(['kind', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sla_events_kind_at').execute();
  await db.schema.dropIndex('tickets_created_at').execute();
  await db.schema.dropIndex('tickets_resolved_at').execute();
}
