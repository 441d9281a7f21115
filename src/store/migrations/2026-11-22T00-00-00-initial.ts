import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file describes the schema as it was on the day it was written and imports
// nothing of the application's, so later changes to the code can never change what it does.

function idColumn(db: Kysely<any>) {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? ({ type: 'bigserial', build: (c: ColumnDefinitionBuilder) => c.primaryKey() } as const)
    : ({ type: 'integer', build: (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement() } as const);
}

export async function up(db: Kysely<any>): Promise<void> {
  const id = idColumn(db);

  await db.schema
    .createTable('counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  // Ticket numbers start at 1001 so the first references look like the ones people are used to.
  await db.insertInto('counters').values({ name: 'ticket_number', value: 1000 }).execute();

  await db.schema
    .createTable('people')
    .addColumn('id', id.type as any, id.build)
    .addColumn('aad_object_id', 'text', (c) => c.unique())
    .addColumn('teams_id', 'text', (c) => c.unique())
    .addColumn('tenant_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'agent', 'requester')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('people_email').on('people').column('email').execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('incident', 'request')`))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('new', 'open', 'pending', 'on_hold', 'resolved', 'closed')`),
    )
    .addColumn('priority', 'text', (c) => c.notNull().check(sql`priority in ('P1', 'P2', 'P3', 'P4')`))
    .addColumn('requester_id', 'bigint', (c) => c.notNull().references('people.id'))
    .addColumn('assignee_id', 'bigint', (c) => c.references('people.id'))
    .addColumn('team_id', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('first_response_at', 'bigint')
    .addColumn('resolved_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .execute();
  // The lists people ask for most: "my open tickets", "unassigned", "the team's queue", newest activity first.
  await db.schema.createIndex('tickets_assignee_status').on('tickets').columns(['assignee_id', 'status', 'updated_at']).execute();
  await db.schema.createIndex('tickets_requester_status').on('tickets').columns(['requester_id', 'status', 'updated_at']).execute();
  await db.schema.createIndex('tickets_status_updated').on('tickets').columns(['status', 'updated_at']).execute();
  await db.schema.createIndex('tickets_team_status').on('tickets').columns(['team_id', 'status', 'updated_at']).execute();

  await db.schema
    .createTable('timeline_entries')
    .addColumn('id', id.type as any, id.build)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull().check(sql`visibility in ('public', 'internal')`))
    .addColumn('author_id', 'bigint', (c) => c.references('people.id'))
    .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('timeline_ticket_at').on('timeline_entries').columns(['ticket_id', 'at']).execute();

  await db.schema
    .createTable('conversation_references')
    .addColumn('id', id.type as any, id.build)
    .addColumn('conversation_id', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('personal', 'channel', 'groupChat')`))
    .addColumn('tenant_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('user_teams_id', 'text')
    .addColumn('user_aad_object_id', 'text')
    .addColumn('service_url', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('installed_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('removed_at', 'bigint')
    .addColumn('stale_at', 'bigint')
    .addColumn('stale_reason', 'text')
    .execute();
  await db.schema.createIndex('conversation_refs_team').on('conversation_references').columns(['team_id', 'kind']).execute();
  await db.schema.createIndex('conversation_refs_user').on('conversation_references').columns(['user_aad_object_id', 'kind']).execute();

  await db.schema
    .createTable('card_posts')
    .addColumn('id', id.type as any, id.build)
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('conversation_ref_id', 'bigint', (c) => c.notNull().references('conversation_references.id'))
    .addColumn('activity_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('posted_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('card_posts_conversation_activity', ['conversation_ref_id', 'activity_id'])
    .execute();
  await db.schema.createIndex('card_posts_ticket').on('card_posts').column('ticket_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', id.type as any, id.build)
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'bigint', (c) => c.references('people.id'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'bigint', (c) => c.references('tickets.id').onDelete('set null'))
    .addColumn('surface', 'text', (c) => c.notNull())
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('audit_log_ticket').on('audit_log').columns(['ticket_id', 'at']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', id.type as any, id.build)
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('operation', 'text', (c) => c.notNull().check(sql`operation in ('send', 'reply', 'update')`))
    .addColumn('conversation_ref_id', 'bigint', (c) => c.notNull().references('conversation_references.id'))
    .addColumn('target_activity_id', 'text')
    .addColumn('ticket_id', 'bigint', (c) => c.references('tickets.id').onDelete('set null'))
    .addColumn('card_kind', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'sent', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('sent_activity_id', 'text')
    .execute();
  // The worker asks "what is due" and "is anything older queued for this conversation": both stay cheap
  // however many sent rows pile up.
  await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_conversation_queue').on('outbox').columns(['conversation_ref_id', 'status', 'id']).execute();

  await db.schema
    .createTable('bot_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'bot_state',
    'outbox',
    'audit_log',
    'card_posts',
    'conversation_references',
    'timeline_entries',
    'tickets',
    'people',
    'counters',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
