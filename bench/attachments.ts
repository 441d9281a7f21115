import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AzureBlobStore } from '../src/integrations/storage/azure-blob.js';
import { DatabaseStore } from '../src/integrations/storage/database.js';
import { FolderStore } from '../src/integrations/storage/folder.js';
import type { AttachmentStore } from '../src/integrations/storage/port.js';
import { S3Store } from '../src/integrations/storage/s3.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { startAzurite, startS3rver } from '../test/support/object-stores.js';

/**
 * Attachment upload and download throughput through each store (database on a SQLite file, folder,
 * Azure Blob on Azurite, S3 on s3rver), against copying the same bytes on local disk (write a file,
 * read it back) in the same run: the ratio is the cost of the store (hashing, sniffing, the temporary
 * copy and commit, the protocol) over the disk. Then the process's peak RSS growth while a 200 MB file
 * goes in and out of each store. Azurite runs as a child process (its memory is not ours); s3rver runs
 * in this process, so its own buffers count in the S3 row. Local emulators, not the cloud: the
 * network is loopback, so the figures are an upper bound on what the desk's own code allows.
 */
export interface AttachmentBenchOptions {
  fileMb: number;
  rounds: number;
  rssMb: number;
}

interface Row {
  store: string;
  uploadMBs: number;
  downloadMBs: number;
  uploadRatio: number;
  downloadRatio: number;
  rssGrowthMb: number;
}

const CHUNK = 256 * 1024;
function source(bytes: number, chunk: Buffer): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}
const sink = () => new Writable({ write: (_c, _e, done) => done() });
const mbs = (bytes: number, ms: number) => bytes / 1024 / 1024 / (ms / 1000);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function benchAttachments(o: AttachmentBenchOptions): Promise<{ options: AttachmentBenchOptions; disk: { uploadMBs: number; downloadMBs: number }; rows: Row[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sd-bench-attachments-'));
  const [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
  const database = openDatabase({ kind: 'sqlite', path: join(dir, 'desk.db') });
  await migrateToLatest(database.db);
  const chunk = randomBytes(CHUNK);
  const bytes = o.fileMb * 1024 * 1024;
  try {
    // Baseline: the same bytes written to a file on local disk and read back.
    let diskUp = Infinity;
    let diskDown = Infinity;
    for (let i = 0; i < o.rounds; i++) {
      const path = join(dir, 'copy.bin');
      diskUp = Math.min(diskUp, await timed(() => pipeline(source(bytes, chunk), createWriteStream(path))));
      diskDown = Math.min(diskDown, await timed(() => pipeline(createReadStream(path), sink())));
      await unlink(path);
    }
    const disk = { uploadMBs: mbs(bytes, diskUp), downloadMBs: mbs(bytes, diskDown) };

    const stores: AttachmentStore[] = [
      new DatabaseStore(database.db),
      new FolderStore(join(dir, 'files')),
      new AzureBlobStore({ connectionString: azurite.connectionString, container: 'bench' }),
      new S3Store({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials }),
    ];
    const rows: Row[] = [];
    for (const store of stores) {
      let up = Infinity;
      let down = Infinity;
      for (let i = 0; i < o.rounds; i++) {
        // A new file each round (the chunk changes), so deduplication never skips the work.
        const roundChunk = randomBytes(CHUNK);
        let key = '';
        up = Math.min(up, await timed(async () => (key = (await store.put(source(bytes, roundChunk), { maxBytes: bytes })).key)));
        down = Math.min(down, await timed(async () => pipeline((await store.get(key))!, sink())));
        await store.delete(key);
      }
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const put = await store.put(source(o.rssMb * 1024 * 1024, randomBytes(CHUNK)), { maxBytes: o.rssMb * 1024 * 1024 });
      await pipeline((await store.get(put.key))!, sink());
      clearInterval(sample);
      peak = Math.max(peak, process.memoryUsage().rss);
      await store.delete(put.key);
      const uploadMBs = mbs(bytes, up);
      const downloadMBs = mbs(bytes, down);
      rows.push({ store: store.name, uploadMBs, downloadMBs, uploadRatio: uploadMBs / disk.uploadMBs, downloadRatio: downloadMBs / disk.downloadMBs, rssGrowthMb: (peak - before) / 1024 / 1024 });
    }
    return { options: o, disk, rows };
  } finally {
    await database.close();
    await Promise.all([azurite.stop(), s3.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function reportAttachments(r: Awaited<ReturnType<typeof benchAttachments>>): string {
  const f = (n: number) => n.toFixed(1);
  const lines = [
    `${r.options.fileMb} MB file, best of ${r.options.rounds}; local disk copy: write ${f(r.disk.uploadMBs)} MB/s, read ${f(r.disk.downloadMBs)} MB/s`,
    '| store | upload MB/s | × disk | download MB/s | × disk | peak RSS growth, 200 MB in and out |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.rows.map((row) => `| ${row.store} | ${f(row.uploadMBs)} | ${row.uploadRatio.toFixed(2)} | ${f(row.downloadMBs)} | ${row.downloadRatio.toFixed(2)} | ${f(row.rssGrowthMb)} MB |`),
  ];
  return lines.join('\n');
}
