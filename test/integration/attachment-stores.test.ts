import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../scripts/lib/doctor.js';
import { linkQuery } from '../../src/domain/attachment-links.js';
import { AzureBlobStore } from '../../src/integrations/storage/azure-blob.js';
import { DatabaseStore } from '../../src/integrations/storage/database.js';
import { FolderStore } from '../../src/integrations/storage/folder.js';
import { AttachmentTooLarge, type AttachmentStore } from '../../src/integrations/storage/port.js';
import { S3Store } from '../../src/integrations/storage/s3.js';
import { migrateAttachments } from '../../src/services/attachments/migrate.js';
import { AttachmentStores, RELEASE_GRACE_MS } from '../../src/services/attachments/stores.js';
import { attachmentsOfLongClosedTickets, markContentPurged } from '../../src/store/mail-attachments.js';
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
      // Larger than a multipart part (S3: 5 MiB) and a block (Azure: 4 MiB), so those paths run too.
      const bytes = randomBytes(11 * 1024 * 1024 + 17);
      // In uneven chunks, as a network download arrives.
      const chunks = (b: Buffer) => Readable.from([b.subarray(0, 1000), b.subarray(1000, 2_000_000), b.subarray(2_000_000)]);
      const first = await store.put(chunks(bytes), { maxBytes: 16 * 1024 * 1024 });
      expect(first).toMatchObject({ key: sha256(bytes), size: bytes.length, created: true, sniffedType: null });
      const second = await store.put(chunks(bytes), { maxBytes: 16 * 1024 * 1024 });
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

describe.each(engines)('the database store on $name', (engine) => {
  it('stores identical bytes written at the same moment once, every writer told where they are', async () => {
    const { database, cleanup } = await engine.open();
    try {
      const store = new DatabaseStore(database.db);
      const bytes = randomBytes(300 * 1024);
      const puts = await Promise.all(Array.from({ length: 8 }, () => store.put(Readable.from([bytes]), { maxBytes: bytes.length })));
      expect(puts.every((p) => p.key === sha256(bytes))).toBe(true);
      expect(puts.filter((p) => p.created)).toHaveLength(1);
      expect((await database.db.selectFrom('attachment_blobs').select('key').execute()).map((r) => r.key)).toEqual([sha256(bytes)]);
    } finally {
      await cleanup();
    }
  });

  it('fails a read whose object is deleted half-way, rather than ending it early as if the file were shorter', async () => {
    const { database, cleanup } = await engine.open();
    try {
      const store = new DatabaseStore(database.db);
      const bytes = randomBytes(3 * 1024 * 1024);
      const { key } = await store.put(Readable.from([bytes]), { maxBytes: bytes.length });
      const stream = (await store.get(key))!;
      const reading = stream[Symbol.asyncIterator]();
      expect((await reading.next()).done).toBe(false);
      await store.delete(key);
      await expect((async () => {
        for (let step = await reading.next(); !step.done; step = await reading.next());
      })()).rejects.toThrow(/lost its chunk/);
    } finally {
      await cleanup();
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

describe.each([
  { name: 'azure', env: () => ({ ATTACHMENT_STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_CONTAINER: `d${randomBytes(6).toString('hex')}` }) },
  { name: 's3', env: () => s3.env },
])('the desk with ATTACHMENT_STORE=$name', ({ env }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mail: true, env: { ...env(), RETENTION_DAYS: '30', ATTACHMENT_LINK_SECRET: SECRET } });
  });
  afterAll(() => h?.stop());
  const db = () => h.service.database.db;

  /** A signed desk link to an email attachment, for the ticket's requester. */
  async function linkTo(name: string, expiresIn = 600): Promise<string> {
    const row = await db().selectFrom('mail_attachments').innerJoin('tickets', 'tickets.id', 'mail_attachments.ticket_id').select(['mail_attachments.id as id', 'tickets.requester_id as requester']).where('name', '=', name).executeTakeFirstOrThrow();
    const key = `e${row.id}`;
    return `${h.service.url}/api/attachments/${key}?${linkQuery({ key, audience: Number(row.requester), expiresAt: Math.floor(Date.now() / 1000) + expiresIn }, Buffer.from(SECRET))}`;
  }

  it('keeps identical files once, redirects a good link to a one-minute URL of the store that serves the bytes as a download, refuses bad links, and answers 410 after retention while the shared copy stays', async () => {
    const report = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(64 * 1024)]);
    // The same PDF twice, on two tickets; and an "image" that is really an executable.
    const exe = Buffer.alloc(512);
    exe.write('MZ', 0, 'latin1');
    exe.writeUInt32LE(0x80, 0x3c);
    exe.write('PE\0\0', 0x80, 'latin1');
    await h.graph.deliver(composeEml({ from: 'pia@fabrikam.example', subject: 'First', text: 'x', attachments: [{ name: 'report.pdf', type: 'application/pdf', content: report }, { name: 'screenshot.png', type: 'image/png', content: exe }] }));
    await h.graph.deliver(composeEml({ from: 'ola@fabrikam.example', subject: 'Second', text: 'x', attachments: [{ name: 'report-copy.pdf', type: 'application/pdf', content: report }] }));
    await h.syncMail();

    const rows = await db().selectFrom('mail_attachments').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.name, r.store, r.content_key, r.content_type, r.declared_type, r.sniffed_type])).toEqual([
      ['report.pdf', env().ATTACHMENT_STORE, sha256(report), 'application/pdf', 'application/pdf', 'application/pdf'],
      ['screenshot.png', env().ATTACHMENT_STORE, sha256(exe), 'application/x-msdownload', 'image/png', 'application/x-msdownload'],
      ['report-copy.pdf', env().ATTACHMENT_STORE, sha256(report), 'application/pdf', 'application/pdf', 'application/pdf'],
    ]);
    const store = h.service.attachmentStores.primary;

    const redirect = await fetch(await linkTo('report.pdf'), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const signed = redirect.headers.get('location')!;
    expect(signed.startsWith(h.service.url)).toBe(false);
    const fromStore = await fetch(signed);
    expect(fromStore.status).toBe(200);
    expect(fromStore.headers.get('content-disposition')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(fromStore.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await fromStore.arrayBuffer()).equals(report)).toBe(true);
    // The executable is served as what it is, as a download.
    const exeAnswer = await fetch(await linkTo('screenshot.png'));
    expect(exeAnswer.headers.get('content-type')).toBe('application/x-msdownload');
    expect(exeAnswer.headers.get('content-disposition')).toMatch(/^attachment;/);

    // The desk's checks come first: a tampered or expired link never reaches the store.
    expect((await fetch((await linkTo('report.pdf')).replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`), { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(await linkTo('report.pdf', -10), { redirect: 'manual' })).status).toBe(403);

    // Retention purges the first ticket: its link answers 410, but the copy the second ticket names stays.
    const first = await db().selectFrom('tickets').select('id').where('subject', '=', 'First').executeTakeFirstOrThrow();
    await db().updateTable('tickets').set({ status: 'closed', is_open: 0, closed_at: Date.now() - 31 * 86_400_000 }).where('id', '=', first.id).execute();
    expect(await h.service.retention!.purge()).toBe(2);
    expect((await fetch(await linkTo('report.pdf'), { redirect: 'manual' })).status).toBe(410);
    // The executable nobody names any more goes with the sweep, once unused for the grace period.
    expect(await store.exists(sha256(exe))).toBe(true);
    expect(await h.service.attachmentStores.sweep(Date.now() + RELEASE_GRACE_MS + 1)).toBe(1);
    expect(await store.exists(sha256(report))).toBe(true);
    expect(await store.exists(sha256(exe))).toBe(false);
    const copy = await fetch(await linkTo('report-copy.pdf'));
    expect(Buffer.from(await copy.arrayBuffer()).equals(report)).toBe(true);
  }, 60_000);
});

describe('npm run attachments -- migrate, while the service runs', () => {
  it('moves files from the database to a folder and then to S3, each download working before, during and after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-migrate-'));
    // The service keeps new files in the database and has the folder's and S3's settings, so it reads
    // rows wherever the migration has put them.
    const h = await startHarness({ mail: true, env: { ...s3.env, ATTACHMENT_STORE: 'database', ATTACHMENT_DIR: dir, ATTACHMENT_LINK_SECRET: SECRET } });
    try {
      const files = Array.from({ length: 6 }, (_, i) => ({ name: `log-${i}.txt`, type: 'text/plain', content: Buffer.concat([Buffer.from(`line ${i}\n`), randomBytes(40 * 1024)]) }));
      await h.graph.deliver(composeEml({ from: 'pia@fabrikam.example', subject: 'Logs', text: 'x', attachments: files }));
      await h.syncMail();
      const rows = await h.service.database.db.selectFrom('mail_attachments').innerJoin('tickets', 'tickets.id', 'mail_attachments.ticket_id').select(['mail_attachments.id as id', 'name', 'tickets.requester_id as requester']).orderBy('mail_attachments.id').execute();
      const links = rows.map((r) => `${h.service.url}/api/attachments/e${r.id}?${linkQuery({ key: `e${r.id}`, audience: Number(r.requester), expiresAt: Math.floor(Date.now() / 1000) + 600 }, Buffer.from(SECRET))}`);
      const downloadAll = async () => {
        for (const [i, link] of links.entries()) {
          const response = await fetch(link);
          expect(response.status).toBe(200);
          expect(Buffer.from(await response.arrayBuffer()).equals(files[i]!.content)).toBe(true);
        }
      };
      expect(rows).toHaveLength(files.length);
      await downloadAll();

      const stores = h.service.attachmentStores;
      for (const to of ['folder', 's3'] as const) {
        const lines: string[] = [];
        // Downloads keep going while the rows move.
        let downloading = true;
        const during = (async () => {
          let rounds = 0;
          while (downloading || rounds === 0) {
            await downloadAll();
            rounds++;
          }
          return rounds;
        })();
        const report = await migrateAttachments({ db: h.service.database.db, stores, target: stores.get(to)!, batch: 2, progress: (l) => lines.push(l) });
        downloading = false;
        expect(await during).toBeGreaterThan(0);
        expect(report).toMatchObject({ moved: files.length, failed: [] });
        expect(lines.filter((l) => l.startsWith('moved '))).toHaveLength(files.length);
        const after = await h.service.database.db.selectFrom('mail_attachments').select(['store', 'content', 'content_key']).execute();
        expect(after.every((r) => r.store === to && r.content === null)).toBe(true);
        await downloadAll();
        // Idempotent: a second run finds nothing to move.
        expect(await migrateAttachments({ db: h.service.database.db, stores, target: stores.get(to)! })).toMatchObject({ moved: 0, failed: [] });
      }
      // Nothing left behind in the stores moved out of, once the sweep has run.
      await stores.sweep(Date.now() + RELEASE_GRACE_MS + 1);
      expect(await h.service.database.db.selectFrom('attachment_blobs').select('key').execute()).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
      expect((await storedBytes(h.service, (await h.service.database.db.selectFrom('mail_attachments').selectAll().orderBy('id').executeTakeFirstOrThrow())))!.equals(files[0]!.content)).toBe(true);
    } finally {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('releasing an object a save is reusing', () => {
  it.each(engines)('keeps it while the save has not written its row yet, and deletes it only once unused for the grace period ($name)', async (engine) => {
    const { database, cleanup } = await engine.open();
    try {
      let now = 1_800_000_000_000;
      const store = new DatabaseStore(database.db);
      const stores = new AttachmentStores(database.db, store, [], { clock: () => now });
      const bytes = randomBytes(2048);
      // A file was kept and then discarded (its row never written): its object is released.
      const first = await store.put(Readable.from([bytes]), { maxBytes: 4096 });
      // Meanwhile another save of the same bytes reuses the object; its row comes later.
      const second = await store.put(Readable.from([bytes]), { maxBytes: 4096 });
      expect(second).toMatchObject({ key: first.key, created: false });
      expect(await stores.release('database', first.key)).toBe(true);
      expect(await stores.sweep()).toBe(0);
      expect(await store.exists(first.key)).toBe(true);
      // Marked again later: the sweep waits for the grace period from then.
      now += RELEASE_GRACE_MS / 2;
      await stores.reused('database', first.key);
      await stores.release('database', first.key);
      now += RELEASE_GRACE_MS / 2 + 1;
      expect(await stores.sweep()).toBe(0);
      expect(await store.exists(first.key)).toBe(true);
      now += RELEASE_GRACE_MS;
      expect(await stores.sweep()).toBe(1);
      expect(await store.exists(first.key)).toBe(false);
      expect(await database.db.selectFrom('released_objects').selectAll().execute()).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});

describe('retention racing a migration', () => {
  it('deletes the copy the row names when it is purged, not the one read before a migration moved it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-race-'));
    const h = await startHarness({ mail: true, env: { ATTACHMENT_STORE: 'database', ATTACHMENT_DIR: dir, RETENTION_DAYS: '30', ATTACHMENT_LINK_SECRET: SECRET } });
    try {
      const db = h.service.database.db;
      const bytes = randomBytes(4096);
      await h.graph.deliver(composeEml({ from: 'pia@fabrikam.example', subject: 'Old', text: 'x', attachments: [{ name: 'old.bin', type: 'application/octet-stream', content: bytes }] }));
      await h.syncMail();
      await db.updateTable('tickets').set({ status: 'closed', is_open: 0, closed_at: Date.now() - 31 * 86_400_000 }).execute();
      // Retention has read the row (in the database store) when a migration moves it to the folder.
      const [stale] = await attachmentsOfLongClosedTickets(db, Date.now() - 30 * 86_400_000, 10);
      expect(stale).toMatchObject({ store: 'database', contentKey: sha256(bytes) });
      const stores = h.service.attachmentStores;
      expect(await migrateAttachments({ db, stores, target: stores.get('folder')! })).toMatchObject({ moved: 1 });
      // Purging answers what the row named then, which is what retention deletes.
      expect(await markContentPurged(db, stale!, Date.now())).toMatchObject({ store: 'folder', contentKey: sha256(bytes) });
      expect(await markContentPurged(db, stale!, Date.now())).toBeUndefined();
    } finally {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('npm run doctor', () => {
  it('checks the attachment store with a real round trip, and says what to fix when it fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-doctor-store-'));
    try {
      const base = { DATABASE_URL: `sqlite:${join(dir, 'desk.db')}` };
      const row = async (env: Record<string, string>) => (await runDoctor({ ...base, ...env }, { root: dir, appEnv: 'dev', timeoutMs: 10_000 })).find((r) => r.check === 'attachment store')!;
      expect(await row({ ATTACHMENT_STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_CONTAINER: 'doctor' })).toMatchObject({ ok: true, detail: expect.stringContaining('wrote, read back and deleted a test object; signed URLs can be made') });
      expect(await row(s3.env)).toMatchObject({ ok: true });
      // Nothing is left of the probe.
      const client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('doctor');
      const left: string[] = [];
      for await (const blob of client.listBlobsFlat()) left.push(blob.name);
      expect(left).toEqual([]);
      const missing = await row({ ...s3.env, S3_BUCKET: 'no-such-bucket' });
      expect(missing).toMatchObject({ ok: false, fix: expect.stringContaining('S3_BUCKET (it must exist)') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a store without its settings, naming the variable', async () => {
    const rows = await runDoctor({ ATTACHMENT_STORE: 's3' }, { root: tmpdir(), appEnv: 'dev' });
    expect(rows[0]).toMatchObject({ check: 'configuration', ok: false, detail: expect.stringContaining('S3_BUCKET: required when ATTACHMENT_STORE is s3') });
  });

  it('refuses an Azure connection string with a SAS token instead of a key (it cannot sign downloads), and never prints the token', async () => {
    const sas = 'sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2099-01-01T00:00:00Z&sig=SECRETSIGNATURE';
    const connectionString = `BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=${sas}`;
    const rows = await runDoctor({ ATTACHMENT_STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: connectionString, AZURE_STORAGE_CONTAINER: 'files' }, { root: tmpdir(), appEnv: 'dev' });
    expect(rows[0]).toMatchObject({ check: 'configuration', ok: false, detail: expect.stringContaining('AZURE_STORAGE_CONNECTION_STRING: needs AccountKey') });
    expect(JSON.stringify(rows)).not.toContain('SECRETSIGNATURE');
    expect(new AzureBlobStore({ connectionString, container: 'files' }).describe()).toBe('Azure Blob container https://acct.blob.core.windows.net/files');
  });
});
