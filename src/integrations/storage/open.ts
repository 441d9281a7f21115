import type { AttachmentStoreConfig } from '../../config.js';
import type { Db } from '../../store/database.js';
import { AzureBlobStore } from './azure-blob.js';
import { DatabaseStore } from './database.js';
import { FolderStore } from './folder.js';
import type { AttachmentStore, StoreName } from './port.js';
import { S3Store } from './s3.js';

/**
 * Every attachment store the configuration has settings for: the database always, the folder with
 * ATTACHMENT_DIR, Azure with its account, S3 with its bucket. `primary` is ATTACHMENT_STORE's.
 */
export function openAttachmentStores(config: AttachmentStoreConfig, db: Db, clock: () => number = Date.now): { primary: AttachmentStore; all: AttachmentStore[] } {
  const all: AttachmentStore[] = [new DatabaseStore(db, clock)];
  if (config.dir) all.push(new FolderStore(config.dir));
  if (config.azure) all.push(new AzureBlobStore(config.azure));
  if (config.s3) all.push(new S3Store(config.s3));
  const primary = all.find((s) => s.name === config.kind);
  // parseConfig refuses a store without its settings; this is the same promise, kept.
  if (!primary) throw new Error(`ATTACHMENT_STORE is ${config.kind}, but its settings are missing`);
  return { primary, all };
}

/** One store by name, for `npm run attachments -- migrate --to <name>`; undefined when its settings are missing. */
export function storeNamed(all: readonly AttachmentStore[], name: StoreName): AttachmentStore | undefined {
  return all.find((s) => s.name === name);
}
