import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { backoffDelay } from '../../domain/backoff.js';
import { ClamdError, type ClamdVerdict } from '../../integrations/clamd/client.js';
import type { Logger } from '../../logger.js';
import { claimDueScans, deferScan, nextScanDueAt, recordScanOutcome, renewScanLease, type ClaimedScan } from '../../store/attachment-scans.js';
import type { Db } from '../../store/database.js';
import { findTicketAttachment, type TicketAttachment } from '../../store/ticket-attachments.js';

/**
 * Malware scanning of kept files (CLAMD_HOST). Files start `pending`; this scans them one at a time
 * (clamd is CPU-bound; one stream at a time keeps memory and its load small) and records a verdict:
 *
 * - `clean`: downloadable as before;
 * - `infected`: held back for good: no link, no file consent, never served; retention deletes its
 *   contents with the ticket's other files;
 * - `failed`: no verdict could be had: larger than clamd's StreamMaxLength (at once), or clamd kept
 *   erroring or timing out on this file (after `maxAttempts`). Held back like `infected`, for agents
 *   too: a file nobody could scan is exactly the one not to hand out.
 *
 * clamd being down is not the file's fault: such files stay pending, retried with backoff for as long
 * as it takes (the `clamd` health check says so), without using up their attempts.
 */


export interface Scanner {
  scan(body: AsyncIterable<Uint8Array>): Promise<ClamdVerdict>;
}

export interface ScanOptions {
  batchSize: number;
  /** Longer than one scan can take (the client's timeout), so a lease outlives its scan. */
  leaseMs: number;
  /** Errors (clamd errors, timeouts) on one file before it is marked failed. */
  maxAttempts: number;
  backoff: { baseMs: number; capMs: number; jitter: number };
}

export const DEFAULT_SCAN_OPTIONS: ScanOptions = {
  batchSize: 20,
  leaseMs: 5 * 60_000,
  maxAttempts: 3,
  backoff: { baseMs: 5_000, capMs: 5 * 60_000, jitter: 0.2 },
};

export interface ScanResult {
  name: string;
  state: 'clean' | 'infected' | 'failed';
  verdict: string | null;
}

export interface AttachmentScanningDeps {
  db: Db;
  scanner: Scanner;
  /** The file's bytes (TicketFiles.contents), whichever store keeps them. */
  contents: (attachment: TicketAttachment) => Promise<Readable | null>;
  /** After verdicts on a ticket's files: its timeline and cards say so (TicketService.filesScanned). */
  onScanned: (ticketId: number, results: readonly ScanResult[]) => Promise<unknown>;
  logger: Logger;
  owner?: string;
  clock?: () => number;
  random?: () => number;
  options?: Partial<ScanOptions>;
}

export class AttachmentScanning {
  private readonly options: ScanOptions;
  private readonly owner: string;
  private readonly clock: () => number;
  /** Consecutive rounds that found clamd down: how long the next retry waits. */
  private outageStreak = 0;
  /** Why the last scan got no verdict from clamd, until one does (health). */
  lastError: string | undefined;

  constructor(private readonly deps: AttachmentScanningDeps) {
    this.options = { ...DEFAULT_SCAN_OPTIONS, ...deps.options };
    this.owner = deps.owner ?? `scan-${randomUUID()}`;
    this.clock = deps.clock ?? Date.now;
  }

  nextDueAt(): Promise<number | undefined> {
    return nextScanDueAt(this.deps.db, this.clock());
  }

  /** Scans what is due now; returns how many files got a verdict or were put off. */
  async runBatch(): Promise<number> {
    const claimed = await claimDueScans(this.deps.db, { now: this.clock(), limit: this.options.batchSize, leaseMs: this.options.leaseMs, owner: this.owner });
    const verdicts = new Map<number, ScanResult[]>();
    for (let i = 0; i < claimed.length; i++) {
      const scan = claimed[i]!;
      // The lease taken with the batch may have run out while earlier files were scanned: renewed
      // now, for one scan's length, or left alone when another replica has taken the file over.
      if (!(await renewScanLease(this.deps.db, scan, this.owner, this.clock() + this.options.leaseMs))) continue;
      const outcome = await this.scanOne(scan);
      if (outcome === 'clamd-down') {
        // Every other claimed file would meet the same closed door: all wait for the same retry.
        const nextAt = this.clock() + backoffDelay(++this.outageStreak, this.options.backoff, this.deps.random);
        for (const rest of claimed.slice(i)) await deferScan(this.deps.db, rest, this.owner, { attempts: rest.attempts, nextAt, reason: this.lastError ?? 'clamd is unreachable' });
        break;
      }
      this.outageStreak = 0;
      if (outcome && scan.ticketId !== null) verdicts.set(scan.ticketId, [...(verdicts.get(scan.ticketId) ?? []), outcome]);
    }
    for (const [ticketId, results] of verdicts) {
      await this.deps.onScanned(ticketId, results).catch((error: unknown) => {
        // The verdicts are recorded (and enforced on download); only the card refresh failed.
        this.deps.logger.warn({ err: error, ticketId }, 'files scanned, but the ticket cards could not be refreshed');
      });
    }
    return claimed.length;
  }

  /** One file: its verdict, undefined when it was put off or had nothing to scan, or 'clamd-down'. */
  private async scanOne(scan: ClaimedScan): Promise<ScanResult | undefined | 'clamd-down'> {
    const { db, logger } = this.deps;
    const attachment = await findTicketAttachment(db, scan.key);
    // A store that fails to read (rather than having nothing) is an error like any other below: the
    // file stays held until its bytes can be scanned.
    let body: Readable | null = null;
    try {
      body = attachment ? await this.deps.contents(attachment) : null;
    } catch (error) {
      return this.putOff(scan, attachment!.name, scan.attempts + 1, 'unreadable', error instanceof Error ? error.message : String(error));
    }
    if (!attachment || attachment.purged || attachment.storage === 'link') {
      // Nothing here to scan (deleted by retention meanwhile, or only a link): nothing to hold back either.
      body?.destroy();
      await recordScanOutcome(db, scan, this.owner, { state: 'not_scanned', verdict: null, now: this.clock(), attempts: scan.attempts });
      return undefined;
    }
    if (!body) {
      // Contents the desk would serve but cannot read now (a store it has no settings for, a copy
      // missing): never `not_scanned`, which downloads as before. Tried again, and held back as
      // `failed` once attempts run out, like any other file nobody could scan.
      return this.putOff(scan, attachment.name, scan.attempts + 1, 'unreadable', 'the file\'s contents could not be read');
    }
    const attempts = scan.attempts + 1;
    const read = { bytes: 0 };
    try {
      const verdict = await this.deps.scanner.scan(counted(body, read));
      this.lastError = undefined;
      // A clean verdict counts only for all of the file: fewer bytes than it has (a read that ended
      // early) were not what is served. Malware found in part of it is found all the same.
      if (!verdict.infected && read.bytes !== attachment.size) {
        return this.putOff(scan, attachment.name, attempts, 'unreadable', `only ${read.bytes} of the file's ${attachment.size} bytes could be read`);
      }
      const result: ScanResult = verdict.infected ? { name: attachment.name, state: 'infected', verdict: verdict.signature } : { name: attachment.name, state: 'clean', verdict: null };
      // Not ours any more (the lease ran out mid-scan and another replica took over): its verdict counts, not this one.
      if (!(await recordScanOutcome(db, scan, this.owner, { state: result.state, verdict: result.verdict, now: this.clock(), attempts }))) return undefined;
      if (verdict.infected) logger.warn({ key: scan.key, ticketId: scan.ticketId, signature: verdict.signature }, 'malware found in a file; it is held back');
      return result;
    } catch (error) {
      const failure = error instanceof ClamdError ? error.failure : 'unreadable';
      const reason = error instanceof Error ? error.message : String(error);
      if (failure === 'unreachable') {
        this.lastError = reason;
        logger.warn({ key: scan.key, reason }, 'clamd is unreachable; the file stays pending');
        return 'clamd-down';
      }
      if (failure === 'timeout' || failure === 'protocol') this.lastError = reason;
      return this.putOff(scan, attachment.name, attempts, failure, reason);
    } finally {
      body.destroy();
    }
  }

  /** No verdict this time: tried again after a backoff, or failed (held back) once attempts run out. */
  private async putOff(scan: ClaimedScan, name: string, attempts: number, failure: string, reason: string): Promise<ScanResult | undefined> {
    const { db, logger } = this.deps;
    // Larger than clamd takes: no retry will change that.
    if (failure === 'size-limit' || attempts >= this.options.maxAttempts) {
      if (!(await recordScanOutcome(db, scan, this.owner, { state: 'failed', verdict: reason.slice(0, 300), now: this.clock(), attempts }))) return undefined;
      logger.warn({ key: scan.key, ticketId: scan.ticketId, reason, attempts }, 'a file could not be scanned; it is held back');
      return { name, state: 'failed', verdict: reason };
    }
    const nextAt = this.clock() + backoffDelay(attempts, this.options.backoff, this.deps.random);
    await deferScan(db, scan, this.owner, { attempts, nextAt, reason });
    logger.warn({ key: scan.key, reason, attempts }, 'a file scan failed; trying again later');
    return undefined;
  }
}

/** The body as it is read, counting its bytes into `read`. */
async function* counted(body: AsyncIterable<Uint8Array>, read: { bytes: number }): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    read.bytes += chunk.length;
    yield chunk;
  }
}
