import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time (see the initial migration). The optional AI assistant:
// - `assistant_calls`: one audit row per call (who, ticket, feature, model, tokens, outcome, ms), never
//   the prompt or the answer's text;
// - `assistant_budget`: tokens spent per UTC day, shared by every replica (AI_DAILY_TOKEN_BUDGET);
// - `assistant_suggestions`: the triage suggestion of a new ticket, shown on the agent card until an
//   agent accepts or dismisses it.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);

  await db.schema
    .createTable('assistant_calls')
    .addColumn('id', id.type as any, id.build)
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('person_id', 'bigint')
    .addColumn('ticket_id', 'bigint')
    .addColumn('feature', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('completion_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assistant_calls_at').on('assistant_calls').column('at').execute();

  await db.schema
    .createTable('assistant_budget')
    .addColumn('day', 'text', (c) => c.primaryKey())
    .addColumn('tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('assistant_suggestions')
    .addColumn('ticket_id', 'bigint', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'accepted', 'dismissed')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_by', 'bigint')
    .addColumn('decided_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('assistant_suggestions').execute();
  await db.schema.dropTable('assistant_budget').execute();
  await db.schema.dropTable('assistant_calls').execute();
}
