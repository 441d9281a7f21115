import type { AttachmentStore, StoreName } from '../../integrations/storage/port.js';
import { clearReleased, markReleased, objectReferences, releasedBefore } from '../../store/attachment-objects.js';
import type { Db } from '../../store/database.js';
import type { Logger } from '../../logger.js';

/**
 * The attachment stores this service can reach: the one new files go to (ATTACHMENT_STORE) and every
 * other one whose settings it has, so that rows already moved by `npm run attachments -- migrate`
 * (or not yet moved) are still served while a migration runs.
 */
export class AttachmentStores {
  private readonly byName = new Map<StoreName, AttachmentStore>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    readonly primary: AttachmentStore,
    others: readonly AttachmentStore[] = [],
    private readonly options: { clock?: () => number; graceMs?: number } = {},
  ) {
    for (const store of [...others, primary]) this.byName.set(store.name, store);
  }

  get(name: StoreName): AttachmentStore | undefined {
    return this.byName.get(name);
  }

  all(): AttachmentStore[] {
    return [...this.byName.values()];
  }

  /**
   * An object no live row names any more (identical files share one) is marked unused, not deleted:
   * a save that reused the same bytes (`put` answered `created: false`) inserts its row only later
   * (Teams files after all downloads, email at the end of the intake transaction), so deleting now
   * could take the object from under it. `sweep` deletes it once unused for the grace period, after
   * checking again that no row names it. Returns whether it was marked.
   */
  async release(name: StoreName, key: string): Promise<boolean> {
    if (!this.byName.has(name) || (await objectReferences(this.db, name, key)) > 0) return false;
    await markReleased(this.db, name, key, this.now());
    return true;
  }

  /** A save reused this object (`created: false`): an earlier release no longer counts. */
  async reused(name: StoreName, key: string): Promise<void> {
    await clearReleased(this.db, name, key);
  }

  /**
   * Deletes objects released more than the grace period (default an hour, far longer than any save
   * takes to insert its row) before `now`, unless a row names them again. Returns how many were deleted.
   * One narrow window stays: a save whose `put` dedupes onto an object in the very moment between
   * this check and the delete. Closing it would need a lock shared by every save and the sweep; the
   * grace period makes it need a save of bytes released over an hour ago at that instant.
   */
  async sweep(now = this.now(), limit = 500): Promise<number> {
    let deleted = 0;
    for (const { store: name, key } of await releasedBefore(this.db, now - (this.options.graceMs ?? RELEASE_GRACE_MS), limit)) {
      const store = this.byName.get(name);
      if (!store) continue; // its settings are gone: kept marked until they are back
      if ((await objectReferences(this.db, name, key)) === 0) {
        await store.delete(key);
        deleted++;
      }
      await clearReleased(this.db, name, key);
    }
    return deleted;
  }

  /** Sweeps every `intervalMs` (default 15 minutes) while the service runs. */
  startSweeping(logger: Logger, intervalMs = 15 * 60_000): void {
    const run = () => void this.sweep().catch((error: unknown) => logger.error({ err: error }, 'deleting released attachment objects failed; trying again later'));
    this.sweepTimer = setInterval(run, intervalMs);
    this.sweepTimer.unref();
  }

  stopSweeping(): void {
    clearInterval(this.sweepTimer);
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }
}

/** How long a released object is kept before the sweep deletes it. */
export const RELEASE_GRACE_MS = 3_600_000;
