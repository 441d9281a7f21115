import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { composeEml, parseEml } from '../../fakes/mail-message.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { storedBytes } from '../../support/object-stores.js';

const dir = mkdtempSync(join(tmpdir(), 'sd-attachment-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const MAX = 1024 * 1024;
/** Compared by digest: a deep comparison of megabyte buffers takes the matcher seconds. */
const digest = (content: Uint8Array) => createHash('sha256').update(content).digest('hex');
const db = () => h.service.database.db;
const listings = () => h.graph.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/attachments'));
const downloads = () => h.graph.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/$value'));

/** Three emails, each with four files of 700 KB (more than ATTACHMENT_MAX_BYTES together), one of 2 MB and an inline image. */
async function deliverLargeMail() {
  const files = new Map<string, Buffer>();
  for (let m = 0; m < 3; m++) {
    const attachments = Array.from({ length: 4 }, (_, i) => ({ name: `scan-${m}-${i}.bin`, type: 'application/octet-stream', content: randomBytes(700 * 1024) }));
    for (const a of attachments) files.set(a.name, a.content);
    await h.graph.deliver(
      composeEml({
        from: `scanner${m}@fabrikam.example`,
        subject: `Scans ${m}`,
        html: `<p>Scans attached <img src="cid:logo${m}@x"></p>`,
        attachments: [
          ...attachments,
          { name: `too-big-${m}.iso`, type: 'application/octet-stream', content: Buffer.alloc(2 * MAX, m) },
          { name: `logo-${m}.png`, type: 'image/png', content: Buffer.from(`PNG${m}`), inline: true, cid: `logo${m}@x` },
        ],
      }),
    );
    files.set(`logo-${m}.png`, Buffer.from(`PNG${m}`));
  }
  return files;
}

/** An email whose listing says its file has 1 KB while the download goes on past ATTACHMENT_MAX_BYTES. */
async function deliverUnderstated(subject: string) {
  const parsed = await parseEml(composeEml({ from: 'pia@fabrikam.example', subject, text: 'x', attachments: [{ name: 'liar.bin', type: 'application/octet-stream', content: Buffer.from('x') }] }));
  const { contentBytes: _bytes, ...listed } = parsed.attachments[0]!;
  h.graph.deliverMessage(parsed.message, [{ ...listed, size: 1024, content: () => Readable.from(Array.from({ length: 3 }, () => Buffer.alloc(MAX / 2 + 1, 7))) }]);
}

describe('attachments are fetched and stored one at a time', () => {
  it('lists without contents, streams each file to ATTACHMENT_DIR on its own, byte for byte, links the ones too large without downloading them, and leaves no partial copy of one larger than listed', async () => {
    const attachmentDir = join(dir, 'files');
    h = await startHarness({ mail: true, env: { ATTACHMENT_DIR: attachmentDir, ATTACHMENT_MAX_BYTES: String(MAX) } });
    const files = await deliverLargeMail();
    await deliverUnderstated('Understated');
    await h.syncMail();

    expect(listings()).toHaveLength(4);
    for (const listing of listings()) {
      // Contents never come with the list: only the fields asked for, contentId by its cast.
      expect(new URLSearchParams(listing.query).get('$select')).toBe('id,name,contentType,size,isInline,microsoft.graph.fileAttachment/contentId');
    }
    expect(downloads()).toHaveLength(files.size + 1);
    expect(downloads().some((r) => r.path.includes('too-big'))).toBe(false);
    expect(h.graph.peakDownloadsInFlight).toBe(1);

    const rows = await db().selectFrom('mail_attachments').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(files.size + 4);
    expect(rows.find((r) => r.name === 'liar.bin')).toMatchObject({ storage: 'link', size: 1024 });
    for (const row of rows.filter((r) => r.name !== 'liar.bin')) {
      if (row.name.startsWith('too-big')) {
        expect(row).toMatchObject({ storage: 'link', size: 2 * MAX, content: null });
        continue;
      }
      expect(row.storage).toBe('file');
      // Content-addressed: the file is named by the SHA-256 of its bytes.
      expect(row.store).toBe('folder');
      expect(digest(readFileSync(join(attachmentDir, row.content_key!)))).toBe(digest(files.get(row.name)!));
      expect(row.content_key).toBe(digest(files.get(row.name)!));
      expect(row.size).toBe(files.get(row.name)!.length);
    }
    expect(rows.find((r) => r.name === 'logo-1.png')).toMatchObject({ inline: 1, content_id: 'logo1@x' });
    // Nothing left of the understated file's partial copy.
    expect(readdirSync(attachmentDir)).toHaveLength(files.size);
  });

  it('keeps small files in the database store when there is no ATTACHMENT_DIR, and links a file whose listing understated its size', async () => {
    h = await startHarness({ mail: true, env: { ATTACHMENT_MAX_BYTES: String(MAX) } });
    const small = randomBytes(300 * 1024);
    await h.graph.deliver(composeEml({ from: 'ola@fabrikam.example', subject: 'Small one', text: 'x', attachments: [{ name: 'small.bin', type: 'application/octet-stream', content: small }] }));
    await deliverUnderstated('Understated');
    await h.syncMail();

    const rows = await db().selectFrom('mail_attachments').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.name, r.storage])).toEqual([
      ['small.bin', 'database'],
      ['liar.bin', 'link'],
    ]);
    expect(rows[0]!.store).toBe('database');
    expect(digest((await storedBytes(h.service, rows[0]!))!)).toBe(digest(small));
    expect(rows[1]!.location).toMatch(/\/attachments\/.+\/\$value$/);
    expect(await db().selectFrom('tickets').select('subject').orderBy('id').execute()).toEqual([{ subject: 'Small one' }, { subject: 'Understated' }]);
  });
});
