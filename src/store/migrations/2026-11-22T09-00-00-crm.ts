import type { Kysely } from 'kysely';

// Frozen in time (see the initial migration). CRM enrichment: what HubSpot said about a requester
// (cached with an expiry), the lookups waiting to be made (batched, retried), where a ticket's tier
// came from, and webhook signatures already accepted (replay protection).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('crm_contacts')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('found', 'integer', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('contact_name', 'text')
    .addColumn('company_id', 'text')
    .addColumn('company_name', 'text')
    .addColumn('domain', 'text')
    .addColumn('tier_value', 'text')
    .addColumn('tier', 'text')
    .addColumn('owner_id', 'text')
    .addColumn('lifecycle_stage', 'text')
    .addColumn('open_deals', 'integer')
    .addColumn('previous_tickets', 'integer')
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('crm_contacts_company').on('crm_contacts').column('company_id').execute();
  await db.schema.createIndex('crm_contacts_contact').on('crm_contacts').column('contact_id').execute();

  await db.schema
    .createTable('enrichment_jobs')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('enrichment_jobs_due').on('enrichment_jobs').column('next_attempt_at').execute();

  // 'none' no email or not in the CRM, 'pending' looking it up, 'ok', 'unavailable' the CRM could not be asked.
  await db.schema.alterTable('tickets').addColumn('crm_status', 'text', (c) => c.notNull().defaultTo('none')).execute();
  // Where the tier came from: the default, the CRM, or an agent (whose choice the CRM does not override).
  await db.schema.alterTable('tickets').addColumn('tier_source', 'text', (c) => c.notNull().defaultTo('default')).execute();
  await db.schema.alterTable('tickets').addColumn('crm_ticket_id', 'text').execute();
  // Where the ticket mirror has got to (tickets updated after this have to be sent to HubSpot).
  await db.schema
    .createTable('crm_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_receipts')
    .addColumn('signature', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_receipts').execute();
  await db.schema.dropTable('crm_state').execute();
  for (const column of ['crm_ticket_id', 'tier_source', 'crm_status']) await db.schema.alterTable('tickets').dropColumn(column).execute();
  await db.schema.dropTable('enrichment_jobs').execute();
  await db.schema.dropTable('crm_contacts').execute();
}
