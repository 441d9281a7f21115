import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). Engineering issues in Linear or Jira linked to tickets:
// `tracked_issues` is what the desk last knew of each issue (one row per issue, however many tickets link
// it: a bug many customers hit), `issue_links` which tickets link it, and `synced_comments` every comment
// carried between a tracker and a ticket, in either direction, so none is carried back (no echo loop).
// `tracker_deliveries`: webhook deliveries seen (Linear-Delivery, X-Atlassian-Webhook-Identifier), kept
// apart from HubSpot's `webhook_receipts`, whose pruning keeps only ten minutes: a Jira delivery may be
// up to an hour old, and its replay must be refused for as long.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tracked_issues')
    .addColumn('tracker', 'text', (c) => c.notNull())
    .addColumn('issue_key', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_category', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_polled_at', 'bigint')
    .addPrimaryKeyConstraint('tracked_issues_pk', ['tracker', 'issue_key'])
    .execute();
  await db.schema
    .createTable('issue_links')
    .addColumn('ticket_id', 'bigint', (c) => c.notNull())
    .addColumn('tracker', 'text', (c) => c.notNull())
    .addColumn('issue_key', 'text', (c) => c.notNull())
    .addColumn('linked_by', 'bigint')
    .addColumn('linked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('issue_links_pk', ['ticket_id', 'tracker', 'issue_key'])
    .execute();
  await db.schema.createIndex('issue_links_issue').on('issue_links').columns(['tracker', 'issue_key']).execute();
  await db.schema
    .createTable('synced_comments')
    .addColumn('tracker', 'text', (c) => c.notNull())
    .addColumn('comment_id', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'bigint', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('synced_comments_pk', ['tracker', 'comment_id', 'ticket_id'])
    .execute();
  await db.schema
    .createTable('tracker_deliveries')
    .addColumn('tracker', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tracker_deliveries_pk', ['tracker', 'delivery_id'])
    .execute();
  await db.schema.createIndex('tracker_deliveries_age').on('tracker_deliveries').column('received_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('tracker_deliveries').execute();
  await db.schema.dropTable('synced_comments').execute();
  await db.schema.dropTable('issue_links').execute();
  await db.schema.dropTable('tracked_issues').execute();
}
