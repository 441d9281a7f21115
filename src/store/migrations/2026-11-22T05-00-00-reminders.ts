import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). Reminders people set on tickets, and each person's time
// zone as their Teams client reports it (so "tomorrow 9:00" means their morning).

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema.alterTable('people').addColumn('time_zone', 'text').execute();
  await db.schema
    .createTable('reminders')
    .addColumn('id', postgres ? 'bigserial' : 'integer', id)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('person_id', 'bigint', (c) => c.notNull().references('people.id'))
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'sent', 'completed')`))
    // Bumped each time the reminder goes out, so a snoozed reminder can go out again, still once per round.
    .addColumn('round', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema.createIndex('reminders_due').on('reminders').columns(['state', 'due_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reminders').execute();
  await db.schema.alterTable('people').dropColumn('time_zone').execute();
}
