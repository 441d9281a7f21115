import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Adds what working tickets from Teams needs: an
// `is_open` flag that keeps "my open tickets" an ordered index range, support teams and their
// members, and channels mapped to a role (the triage channel, later the SLA channels).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tickets').addColumn('is_open', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.dropIndex('tickets_assignee_status').execute();
  await db.schema.dropIndex('tickets_requester_status').execute();
  await db.schema.dropIndex('tickets_status_updated').execute();
  await db.schema.dropIndex('tickets_team_status').execute();
  // Each list is one ordered range of one index: newest activity first, id to break ties.
  await db.schema.createIndex('tickets_assignee_open').on('tickets').columns(['assignee_id', 'is_open', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_requester_open').on('tickets').columns(['requester_id', 'is_open', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_open').on('tickets').columns(['is_open', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_team_open').on('tickets').columns(['team_id', 'is_open', 'updated_at', 'id']).execute();
  await db.schema.createIndex('people_role').on('people').columns(['role', 'name']).execute();

  await db.schema
    .createTable('support_teams')
    .addColumn('team_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('registered_by', 'bigint', (c) => c.references('people.id'))
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', (c) => c.notNull().references('support_teams.team_id').onDelete('cascade'))
    .addColumn('person_id', 'bigint', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'person_id'])
    .execute();
  await db.schema.createIndex('team_members_person').on('team_members').column('person_id').execute();

  await db.schema
    .createTable('channel_roles')
    .addColumn('role', 'text', (c) => c.primaryKey())
    .addColumn('conversation_ref_id', 'bigint', (c) => c.notNull().references('conversation_references.id'))
    .addColumn('team_id', 'text')
    .addColumn('set_by', 'bigint', (c) => c.references('people.id'))
    .addColumn('set_at', 'bigint', (c) => c.notNull())
    .execute();

  // One live copy of a ticket's card per conversation and kind: a newer copy takes over from an older
  // one as the copy kept up to date, so a busy chat does not multiply in-place updates. Older copies
  // stay recorded: a channel thread under one still belongs to its ticket.
  await db.schema.alterTable('card_posts').addColumn('live', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  // This index starts with ticket_id, so it also serves "every copy of this ticket": the narrower one
  // from the first migration only costs writes.
  await db.schema.dropIndex('card_posts_ticket').execute();
  await db.schema
    .createIndex('card_posts_ticket_conversation')
    .on('card_posts')
    .columns(['ticket_id', 'conversation_ref_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('card_posts_ticket_conversation').execute();
  await db.schema.createIndex('card_posts_ticket').on('card_posts').column('ticket_id').execute();
  await db.schema.alterTable('card_posts').dropColumn('live').execute();
  await db.schema.dropTable('channel_roles').execute();
  await db.schema.dropTable('team_members').execute();
  await db.schema.dropTable('support_teams').execute();
  await db.schema.dropIndex('people_role').execute();
  for (const index of ['tickets_assignee_open', 'tickets_requester_open', 'tickets_open', 'tickets_team_open']) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema.alterTable('tickets').dropColumn('is_open').execute();
}
