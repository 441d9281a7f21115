import { type Kysely, sql } from 'kysely';

// Frozen in time (see the initial migration). Malware scanning of kept files (CLAMD_HOST): each file
// of a ticket, in either table, carries where its scan stands. Files kept before scanning existed (or
// kept while no scanner is configured) are `not_scanned`; new ones start `pending` when a scanner is
// configured. The scan worker leases pending rows (scan_lease_*) so two replicas never scan one file,
// and backs off between attempts (scan_next_at, scan_attempts).

const TABLES = ['mail_attachments', 'ticket_attachments'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await db.schema
      .alterTable(table)
      .addColumn('scan_state', 'text', (c) => c.notNull().defaultTo('not_scanned').check(sql`scan_state in ('not_scanned', 'pending', 'clean', 'infected', 'failed')`))
      .execute();
    // The signature clamd found (infected), or why no verdict could be had (failed).
    await db.schema.alterTable(table).addColumn('scan_verdict', 'text').execute();
    await db.schema.alterTable(table).addColumn('scanned_at', 'bigint').execute();
    await db.schema.alterTable(table).addColumn('scan_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable(table).addColumn('scan_next_at', 'bigint').execute();
    await db.schema.alterTable(table).addColumn('scan_lease_until', 'bigint').execute();
    await db.schema.alterTable(table).addColumn('scan_lease_owner', 'text').execute();
    // Only the few pending rows are indexed: the worker's claim and "when is the next one due".
    await sql`create index ${sql.id(`${table}_scan_pending`)} on ${sql.table(table)} (scan_next_at) where scan_state = 'pending'`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await db.schema.dropIndex(`${table}_scan_pending`).execute();
    for (const column of ['scan_lease_owner', 'scan_lease_until', 'scan_next_at', 'scan_attempts', 'scanned_at', 'scan_verdict', 'scan_state']) {
      await db.schema.alterTable(table).dropColumn(column).execute();
    }
  }
}
