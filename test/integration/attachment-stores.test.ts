import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkQuery } from '../../src/domain/attachment-links.js';
import { AzureBlobStore } from '../../src/integrations/storage/azure-blob.js';
import { DatabaseStore } from '../../src/integrations/storage/database.js';
import { FolderStore } from '../../src/integrations/storage/folder.js';
import { AttachmentTooLarge, type AttachmentStore } from '../../src/integrations/storage/port.js';
import { S3Store } from '../../src/integrations/storage/s3.js';
import { migrateAttachments } from '../../src/services/attachments/migrate.js';
import { AttachmentStores } from '../../src/services/attachments/stores.js';
import { composeEml } from '../fakes/mail-message.js';
import { engines } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startAzurite, startS3rver, storedBytes, type RunningAzurite, type RunningS3 } from '../support/object-stores.js';

/**
 * Attachment stores against real peers: Azurite (the Azure Storage emulator) for Blob, s3rver (an
 * S3-compatible server) driven by the real AWS SDK for S3, a temporary folder, and the database on
 * each engine. Then the desk end to end: files kept in Azure/S3 are downloaded through the desk's
 * signed link, which answers 302 to a one-minute URL of the store (still 403 for a bad link, 410
 * after retention), and a migration between stores while the service runs.
 */

const SECRET = 'attachment-store-test-secret-0123456789abcdef';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const readAll = async (stream: Readable | null) => {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
};

let azurite: RunningAzurite;
let s3: RunningS3;
beforeAll(async () => {
  [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([azurite?.stop(), s3?.stop()]);
});

interface Subject {
  name: string;
  open(): Promise<{ store: AttachmentStore; objects(): Promise<string[]>; close(): Promise<void> }>;
}

const subjects: Subject[] = [
  ...engines.map((engine) => ({
    name: `database (${engine.name})`,
    async open() {
      const { database, cleanup } = await engine.open();
      const store = new DatabaseStore(database.db);
      return { store, objects: async () => [...new Set((await database.db.selectFrom('attachment_blobs').select('key').execute()).map((r) => r.key))], close: cleanup };
    },
  })),
  {
    name: 'folder',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'sd-store-'));
      return { store: new FolderStore(join(dir, 'files')), objects: async () => readdirSync(join(dir, 'files')), close: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'azure (Azurite)',
    async open() {
      const container = `t${randomBytes(6).toString('hex')}`;
      const client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
      const objects = async () => {
        const names: string[] = [];
        for await (const blob of client.listBlobsFlat()) names.push(blob.name);
        return names;
      };
      return { store: new AzureBlobStore({ connectionString: azurite.connectionString, container }), objects, close: async () => undefined };
    },
  },
  {
    name: 's3 (s3rver)',
    async open() {
      const store = new S3Store({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
      const objects = async () => ((await store.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key!);
      return {
        store,
        objects,
        async close() {
          for (const key of await objects()) await store.client.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
        },
      };
    },
  },
];

describe.each(subjects)('the $name attachment store', (subject) => {
  it('keeps bytes under their SHA-256, once for identical files, streams them back, and deletes them', async () => {
    const { store, objects, close } = await subject.open();
    try {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      // In uneven chunks, as a network download arrives.
      const chunks = (b: Buffer) => Readable.from([b.subarray(0, 1000), b.subarray(1000, 2_000_000), b.subarray(2_000_000)]);
      const first = await store.put(chunks(bytes), { maxBytes: 10 * 1024 * 1024 });
      expect(first).toMatchObject({ key: sha256(bytes), size: bytes.length, created: true, sniffedType: null });
      const second = await store.put(chunks(bytes), { maxBytes: 10 * 1024 * 1024 });
      expect(second).toMatchObject({ key: first.key, created: false });
      expect(await objects()).toEqual([first.key]);
      expect((await readAll(await store.get(first.key)))!.equals(bytes)).toBe(true);
      expect(await store.exists(first.key)).toBe(true);

      const empty = await store.put(Readable.from([]), { maxBytes: 10 });
      expect(empty).toMatchObject({ key: sha256(Buffer.alloc(0)), size: 0 });
      expect((await readAll(await store.get(empty.key)))!.length).toBe(0);

      await store.delete(first.key);
      expect(await store.exists(first.key)).toBe(false);
      expect(await store.get(first.key)).toBeNull();
      // Keys are checked before they reach a path or URL.
      expect(await store.get('../../etc/passwd')).toBeNull();
    } finally {
      await close();
    }
  }, 60_000);

  it('aborts a file past the size limit and leaves nothing behind', async () => {
    const { store, objects, close } = await subject.open();
    try {
      let produced = 0;
      // Endless: only an abort ends it.
      const endless = new Readable({
        read() {
          produced += 64 * 1024;
          this.push(Buffer.alloc(64 * 1024, 7));
        },
      });
      await expect(store.put(endless, { maxBytes: 1024 * 1024 })).rejects.toBeInstanceOf(AttachmentTooLarge);
      expect(endless.destroyed).toBe(true);
      expect(produced).toBeLessThan(8 * 1024 * 1024);
      expect(await objects()).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('sniffs the type from the bytes: a ".png" that is a Windows executable', async () => {
    const { store, close } = await subject.open();
    try {
      // "MZ", then the PE header offset at 0x3c pointing at "PE\0\0" (a minimal DOS/PE header).
      const exe = Buffer.alloc(512);
      exe.write('MZ', 0, 'latin1');
      exe.writeUInt32LE(0x80, 0x3c);
      exe.write('PE\0\0', 0x80, 'latin1');
      const put = await store.put(Readable.from([exe]), { maxBytes: 4096 });
      expect(put.sniffedType).toBe('application/x-msdownload');
    } finally {
      await close();
    }
  });
});

describe('streaming a 200 MB file', () => {
  // Not a speed claim: the bound is on memory. Without streaming, 200 MB in and 200 MB out would
  // grow the process by at least 200 MB; 64 MB leaves room for the garbage collector's slack on a
  // busy machine while still failing any implementation that holds the file (or a large part) whole.
  const SIZE = 200 * 1024 * 1024;
  const source = () => {
    let sent = 0;
    const chunk = randomBytes(256 * 1024);
    return new Readable({
      read() {
        if (sent >= SIZE) return void this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
  };
  it.each(['folder', 'azure (Azurite)'])('through the %s store in and out with RSS growth under 64 MB', async (name) => {
    const { store, close } = await subjects.find((s) => s.name === name)!.open();
    try {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const put = await store.put(source(), { maxBytes: SIZE });
      let read = 0;
      for await (const chunk of (await store.get(put.key))!) {
        read += (chunk as Buffer).length;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      clearInterval(sample);
      expect(put.size).toBe(SIZE);
      expect(read).toBe(SIZE);
      expect((peak - before) / 1024 / 1024).toBeLessThan(64);
      await store.delete(put.key);
    } finally {
      await close();
    }
  }, 240_000);
});
