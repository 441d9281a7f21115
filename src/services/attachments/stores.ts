import type { AttachmentStore, StoreName } from '../../integrations/storage/port.js';
import { objectReferences } from '../../store/attachment-objects.js';
import type { Db } from '../../store/database.js';

/**
 * The attachment stores this service can reach: the one new files go to (ATTACHMENT_STORE) and every
 * other one whose settings it has, so that rows already moved by `npm run attachments -- migrate`
 * (or not yet moved) are still served while a migration runs.
 */
export class AttachmentStores {
  private readonly byName = new Map<StoreName, AttachmentStore>();

  constructor(private readonly db: Db, readonly primary: AttachmentStore, others: readonly AttachmentStore[] = []) {
    for (const store of [...others, primary]) this.byName.set(store.name, store);
  }

  get(name: StoreName): AttachmentStore | undefined {
    return this.byName.get(name);
  }

  all(): AttachmentStore[] {
    return [...this.byName.values()];
  }

  /**
   * Deletes an object once no live row names it (identical files share one). The check and the delete
   * are two steps: a file kept between them with the same bytes would find its object gone, so callers
   * release only objects whose rows are gone for good (purged, moved, or never written).
   */
  async release(name: StoreName, key: string): Promise<boolean> {
    const store = this.byName.get(name);
    if (!store || (await objectReferences(this.db, name, key)) > 0) return false;
    await store.delete(key);
    return true;
  }
}
