import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). What the SLA sweep has already done, so each warning
// and breach goes out once per ticket, clock, threshold and clock cycle (a reopened ticket starts a
// new resolution cycle), however many sweeps or replicas look; and snoozes of a ticket's warnings.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable('sla_events')
    .addColumn('id', postgres ? 'bigserial' : 'integer', id)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('clock', 'text', (c) => c.notNull().check(sql`clock in ('first_response', 'resolution')`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('warning', 'breach')`))
    .addColumn('threshold', 'text', (c) => c.notNull())
    .addColumn('cycle', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    // sent: people were told; silent: passed while the service was down or overtaken by a later one;
    // snoozed: passed while someone had snoozed the ticket's warnings.
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('sent', 'silent', 'snoozed')`))
    .addUniqueConstraint('sla_events_once', ['ticket_id', 'clock', 'kind', 'threshold', 'cycle'])
    .execute();

  await db.schema
    .createTable('sla_snoozes')
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('clock', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addColumn('by_person_id', 'bigint', (c) => c.references('people.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sla_snoozes_pk', ['ticket_id', 'clock'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sla_snoozes').execute();
  await db.schema.dropTable('sla_events').execute();
}
