import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { BlobSASPermissions, BlobServiceClient, RestError, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { AttachmentTooLarge, isContentKey, Measure, type AttachmentStore, type PutResult, type SignedUrlOptions } from './port.js';

/**
 * Attachments in Azure Blob Storage (@azure/storage-blob), one block blob per content hash in one
 * container (created when missing). A file is uploaded in blocks to `tmp/<uuid>` (a few blocks of
 * 4 MiB in memory at most: uploadStream's buffer size × concurrency), then copied server-side to its
 * hash, with `If-None-Match: *` on the destination so an object is never overwritten, and the
 * temporary blob deleted.
 *   uploadStream: https://learn.microsoft.com/en-us/javascript/api/@azure/storage-blob/blockblobclient#@azure-storage-blob-blockblobclient-uploadstream
 *   Copy Blob (same account, conditions): https://learn.microsoft.com/en-us/rest/api/storageservices/copy-blob
 *   Service SAS with response headers (rscd, rsct): https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas
 * Signed URLs need the account key (a connection string with AccountKey, or account name + key).
 */
export interface AzureBlobSettings {
  connectionString?: string;
  accountUrl?: string;
  accountName?: string;
  accountKey?: string;
  container: string;
}

const BLOCK_BYTES = 4 * 1024 * 1024;
const CONCURRENCY = 2;

export class AzureBlobStore implements AttachmentStore {
  readonly name = 'azure' as const;
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(private readonly settings: AzureBlobSettings) {
    const service = settings.connectionString
      ? BlobServiceClient.fromConnectionString(settings.connectionString)
      : new BlobServiceClient(settings.accountUrl!, new StorageSharedKeyCredential(settings.accountName!, settings.accountKey!));
    this.container = service.getContainerClient(settings.container);
  }

  describe(): string {
    // Without its query string: a URL made from a SAS connection string carries the token there.
    return `Azure Blob container ${this.container.url.split('?')[0]}`;
  }

  /** Creates the container on first use (private: no public access). */
  private ensureContainer(): Promise<unknown> {
    this.ready ??= this.container.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async put(content: Readable, options: { maxBytes: number }): Promise<PutResult> {
    await this.ensureContainer();
    const temp = this.container.getBlockBlobClient(`tmp/${randomUUID()}`);
    const measure = new Measure(options.maxBytes);
    // pipeline destroys the source when the measure fails (too large), so no more is read.
    const measured = pipeline(content, measure, () => undefined);
    try {
      await temp.uploadStream(measured, BLOCK_BYTES, CONCURRENCY);
      if (measure.errored) throw measure.errored;
      const result = await measure.result();
      const target = this.container.getBlockBlobClient(result.key);
      let created = false;
      if (!(await target.exists())) {
        const source = await temp.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) });
        try {
          const copy = await target.beginCopyFromURL(source, { conditions: { ifNoneMatch: '*' } });
          await copy.pollUntilDone();
          created = true;
        } catch (error) {
          // Another writer committed the same bytes in between: theirs stays.
          if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412))) throw error;
        }
      }
      return { ...result, created };
    } catch (error) {
      if (measure.errored instanceof AttachmentTooLarge) throw measure.errored;
      throw error;
    } finally {
      await temp.deleteIfExists().catch(() => undefined);
    }
  }

  async get(key: string): Promise<Readable | null> {
    if (!isContentKey(key)) return null;
    try {
      const response = await this.container.getBlobClient(key).download();
      return (response.readableStreamBody as Readable | undefined) ?? null;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return isContentKey(key) && this.container.getBlobClient(key).exists();
  }

  async delete(key: string): Promise<void> {
    if (!isContentKey(key)) return;
    await this.container.getBlobClient(key).deleteIfExists();
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
    if (!isContentKey(key)) throw new Error('not an attachment key');
    return this.container.getBlobClient(key).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      // A little slack before now for clocks that run ahead of Azure's.
      startsOn: new Date(Date.now() - 60_000),
      expiresOn: new Date(Date.now() + options.ttlMs),
      contentDisposition: options.contentDisposition,
      contentType: options.contentType,
    });
  }
}
