import { sql } from 'kysely';
import type { Db } from './database.js';
import type { ScanState } from './tables.js';

/**
 * The malware-scan queue: kept files (in either attachment table) whose scan is `pending`. A worker
 * claims a few at a time with a lease, so two replicas never scan the same file, and a replica that
 * dies mid-scan leaves a lease that runs out and lets another take the file over. Claiming is a
 * conditional UPDATE per row (the row is still pending and unleased), which works the same on SQLite
 * and Postgres.
 */

const TABLES = ['mail_attachments', 'ticket_attachments'] as const;
export type ScanTable = (typeof TABLES)[number];

export interface ClaimedScan {
  table: ScanTable;
  id: number;
  /** The attachment's key (`e12`, `t7`), as src/store/ticket-attachments.ts names it. */
  key: string;
  ticketId: number | null;
  attempts: number;
}

export async function claimDueScans(db: Db, options: { now: number; limit: number; leaseMs: number; owner: string }): Promise<ClaimedScan[]> {
  const { now, limit, leaseMs, owner } = options;
  const claimed: ClaimedScan[] = [];
  for (const table of TABLES) {
    if (claimed.length >= limit) break;
    // Both tables have these columns; the query is typed against one of them.
    const t = table as 'ticket_attachments';
    const candidates = await db
      .selectFrom(t)
      .select(['id', 'ticket_id', 'scan_attempts'])
      .where('scan_state', '=', 'pending')
      .where((w) => w.or([w('scan_next_at', 'is', null), w('scan_next_at', '<=', now)]))
      .where((w) => w.or([w('scan_lease_until', 'is', null), w('scan_lease_until', '<', now)]))
      .orderBy('id')
      .limit(limit - claimed.length)
      .execute();
    for (const row of candidates) {
      const taken = await db
        .updateTable(t)
        .set({ scan_lease_until: now + leaseMs, scan_lease_owner: owner })
        .where('id', '=', row.id)
        .where('scan_state', '=', 'pending')
        .where((w) => w.or([w('scan_lease_until', 'is', null), w('scan_lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) continue; // another replica was quicker
      claimed.push({ table, id: Number(row.id), key: `${table === 'mail_attachments' ? 'e' : 't'}${row.id}`, ticketId: row.ticket_id === null ? null : Number(row.ticket_id), attempts: Number(row.scan_attempts) });
    }
  }
  return claimed;
}

/**
 * Extends this owner's lease on a claimed file to `until`, just before it is scanned: a batch is
 * scanned one file at a time, each up to the client's timeout, so the leases taken when the batch was
 * claimed could run out before its last files are reached. False when the lease is no longer ours
 * (it ran out and another replica took the file): then the file is left to that replica.
 */
export async function renewScanLease(db: Db, scan: Pick<ClaimedScan, 'table' | 'id'>, owner: string, until: number): Promise<boolean> {
  const result = await db
    .updateTable(scan.table as 'ticket_attachments')
    .set({ scan_lease_until: until })
    .where('id', '=', scan.id)
    .where('scan_state', '=', 'pending')
    .where('scan_lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The scan's outcome, written only while the lease is still this owner's (else another replica took over). */
export async function recordScanOutcome(db: Db, scan: Pick<ClaimedScan, 'table' | 'id'>, owner: string, outcome: { state: Exclude<ScanState, 'pending'>; verdict: string | null; now: number; attempts: number }): Promise<boolean> {
  const result = await db
    .updateTable(scan.table as 'ticket_attachments')
    .set({ scan_state: outcome.state, scan_verdict: outcome.verdict, scanned_at: outcome.now, scan_attempts: outcome.attempts, scan_next_at: null, scan_lease_until: null, scan_lease_owner: null })
    .where('id', '=', scan.id)
    .where('scan_lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** No verdict this time: the file stays pending and is tried again at `nextAt`. */
export async function deferScan(db: Db, scan: Pick<ClaimedScan, 'table' | 'id'>, owner: string, retry: { attempts: number; nextAt: number; reason: string }): Promise<void> {
  await db
    .updateTable(scan.table as 'ticket_attachments')
    .set({ scan_attempts: retry.attempts, scan_next_at: retry.nextAt, scan_verdict: retry.reason.slice(0, 300), scan_lease_until: null, scan_lease_owner: null })
    .where('id', '=', scan.id)
    .where('scan_lease_owner', '=', owner)
    .execute();
}

/**
 * When the next pending scan is due: a fresh file at once (0), a deferred one at its retry time, a
 * leased one (another replica is scanning it) when its lease would run out. Undefined when none waits.
 */
export async function nextScanDueAt(db: Db, now: number): Promise<number | undefined> {
  let next: number | undefined;
  const consider = (at: number | null | undefined) => {
    if (at === null || at === undefined) return;
    next = next === undefined ? Number(at) : Math.min(next, Number(at));
  };
  for (const table of TABLES) {
    const t = table as 'ticket_attachments';
    const free = await db
      .selectFrom(t)
      .select(['scan_next_at'])
      .where('scan_state', '=', 'pending')
      .where((w) => w.or([w('scan_lease_until', 'is', null), w('scan_lease_until', '<', now)]))
      .orderBy(sql`coalesce(scan_next_at, 0)`)
      .limit(1)
      .executeTakeFirst();
    if (free) consider(free.scan_next_at ?? 0);
    const leased = await db.selectFrom(t).select((e) => e.fn.min('scan_lease_until').as('until')).where('scan_state', '=', 'pending').where('scan_lease_until', '>=', now).executeTakeFirst();
    consider(leased?.until as number | null | undefined);
  }
  return next;
}

/** How many files wait for a scan (for `status`). */
export async function pendingScanCount(db: Db): Promise<number> {
  let total = 0;
  for (const table of TABLES) {
    const row = await db.selectFrom(table as 'ticket_attachments').select((e) => e.fn.count<number>('id').as('n')).where('scan_state', '=', 'pending').executeTakeFirst();
    total += Number(row?.n ?? 0);
  }
  return total;
}

/** Frees every scan lease (SQLite at start: one process, so any lease belongs to one that is gone). */
export async function releaseScanLeases(db: Db): Promise<number> {
  let freed = 0;
  for (const table of TABLES) {
    const result = await db.updateTable(table as 'ticket_attachments').set({ scan_lease_until: null, scan_lease_owner: null }).where('scan_lease_owner', 'is not', null).executeTakeFirst();
    freed += Number(result.numUpdatedRows);
  }
  return freed;
}
