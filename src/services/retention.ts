import { unlink } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { attachmentsOfLongClosedTickets, markContentPurged } from '../store/mail-attachments.js';
import type { Database } from '../store/database.js';
import type { AttachmentStores } from './attachments/stores.js';

/**
 * Deletes the contents of attachments on tickets closed more than `days` ago (names, types and sizes
 * stay, so the timeline still says what was attached), in the database or in ATTACHMENT_DIR. Runs
 * every few hours; each run handles a bounded batch. Contents in an attachment store are shared by
 * identical files, so an object is deleted only when no live row names it any more.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { database: Database; days: number; logger: Logger; clock?: () => number; intervalMs?: number; stores?: AttachmentStores }) {}

  start(): void {
    const run = () => void this.purge().catch((error) => this.deps.logger.error({ err: error }, 'attachment retention failed; trying again later'));
    this.timer = setInterval(run, this.deps.intervalMs ?? 6 * 3_600_000);
    this.timer.unref();
    run();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Purges one batch; returns how many attachments lost their contents. */
  async purge(limit = 500): Promise<number> {
    const db = this.deps.database.db;
    const now = (this.deps.clock ?? Date.now)();
    const cutoff = now - this.deps.days * 86_400_000;
    const due = await attachmentsOfLongClosedTickets(db, cutoff, limit);
    for (const attachment of due) {
      // The row first, then what it named at that moment: the object goes only when no other live row
      // (the same file on an open ticket, say) still names it. Not what was read above, which a
      // migration may have moved since (src/store/mail-attachments.ts, markContentPurged).
      const kept = await markContentPurged(db, attachment, now);
      if (!kept) continue;
      if (kept.store && kept.contentKey) await this.deps.stores?.release(kept.store, kept.contentKey);
      else if (kept.storage === 'file' && kept.location) await unlink(kept.location).catch(() => undefined);
    }
    if (due.length > 0) this.deps.logger.info({ purged: due.length, olderThanDays: this.deps.days }, 'attachment contents of long-closed tickets deleted');
    return due.length;
  }
}
