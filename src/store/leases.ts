import { releaseScanLeases } from './attachment-scans.js';
import type { Db } from './database.js';

/**
 * Frees every lease. Only for SQLite at start: it serves one process (the lock file sees to that), so
 * any lease in the file belongs to a process that is gone, and its work can go on at once rather than
 * when the lease would have run out.
 */
export async function releaseAllLeases(db: Db): Promise<number> {
  let freed = 0;
  for (const table of ['outbox', 'mail_outbox', 'mail_state', 'enrichment_jobs'] as const) {
    const result = await db.updateTable(table).set({ lease_until: null, lease_owner: null }).where('lease_owner', 'is not', null).executeTakeFirst();
    freed += Number(result.numUpdatedRows);
  }
  // SLA checks a sweep had claimed are due again now (the sweep decides their real next check).
  const checks = await db.updateTable('tickets').set({ next_sla_check_at: 0, sla_check_owner: null }).where('sla_check_owner', 'is not', null).executeTakeFirst();
  freed += Number(checks.numUpdatedRows);
  // Files a scan had claimed are scanned again (src/store/attachment-scans.ts).
  freed += await releaseScanLeases(db);
  return freed;
}
