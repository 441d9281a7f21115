import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Escalations: a ticket climbs the levels of its team's
// chain until someone accepts it; each level has until `timeout_at` before the next one is asked.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable('escalations')
    .addColumn('id', postgres ? 'bigserial' : 'integer', id)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('open', 'accepted', 'exhausted')`))
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('levels', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('started_by', 'bigint', (c) => c.references('people.id'))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('timeout_at', 'bigint')
    .addColumn('accepted_by', 'bigint', (c) => c.references('people.id'))
    .addColumn('accepted_at', 'bigint')
    .addColumn('history', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.createIndex('escalations_ticket').on('escalations').columns(['ticket_id', 'state']).execute();
  await db.schema.createIndex('escalations_timeout').on('escalations').columns(['state', 'timeout_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('escalations').execute();
}
