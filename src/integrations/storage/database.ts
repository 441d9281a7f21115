import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../../store/database.js';
import { AttachmentTooLarge, isContentKey, Measure, type AttachmentStore, type PutResult } from './port.js';

/**
 * Attachments in the database (the default store): `attachment_blobs` rows of at most 1 MiB, so a file
 * goes in and comes out a chunk at a time instead of as one value held whole. Chunks are written under
 * a temporary key and renamed to the content's hash in one transaction, unless that hash is there
 * already (then the copy is dropped): the same bytes are kept once, and a half-written file is never
 * visible under a real key.
 */
const CHUNK_BYTES = 1024 * 1024;

export class DatabaseStore implements AttachmentStore {
  readonly name = 'database' as const;

  constructor(private readonly db: Db, private readonly clock: () => number = Date.now) {}

  describe(): string {
    return 'the database (attachment_blobs)';
  }

  async put(content: Readable, options: { maxBytes: number }): Promise<PutResult> {
    const temp = `tmp-${randomUUID()}`;
    const measure = new Measure(options.maxBytes);
    const db = this.db;
    const now = this.clock();
    try {
      await pipeline(content, measure, async function (chunks: AsyncIterable<Buffer>) {
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        let seq = 0;
        const flush = async () => {
          if (pendingBytes === 0) return;
          const bytes = Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          for (let at = 0; at < bytes.length; at += CHUNK_BYTES) await db.insertInto('attachment_blobs').values({ key: temp, seq: seq++, content: bytes.subarray(at, at + CHUNK_BYTES), created_at: now }).execute();
        };
        for await (const chunk of chunks) {
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= CHUNK_BYTES) await flush();
        }
        await flush();
        // An empty file is one empty chunk, so that it exists.
        if (seq === 0) await db.insertInto('attachment_blobs').values({ key: temp, seq: 0, content: Buffer.alloc(0), created_at: now }).execute();
      });
      const result = await measure.result();
      let created: boolean;
      try {
        created = await db.transaction().execute(async (tx) => {
          const there = await tx.selectFrom('attachment_blobs').select('seq').where('key', '=', result.key).limit(1).executeTakeFirst();
          if (there) {
            await tx.deleteFrom('attachment_blobs').where('key', '=', temp).execute();
            return false;
          }
          await tx.updateTable('attachment_blobs').set({ key: result.key }).where('key', '=', temp).execute();
          return true;
        });
      } catch (error) {
        // Two transactions storing the same bytes at once (Postgres, read committed) both see no such
        // key and both rename: the second waits on the first's index entry and then violates the
        // primary key. The bytes are there all the same, so that is a dedupe, not a failure (the catch
        // below would drop our temporary chunks; done here so as to answer rather than throw).
        if (!isUniqueViolation(error)) throw error;
        await db.deleteFrom('attachment_blobs').where('key', '=', temp).execute();
        created = false;
      }
      return { ...result, created };
    } catch (error) {
      if (error instanceof AttachmentTooLarge) content.destroy();
      await db.deleteFrom('attachment_blobs').where('key', '=', temp).execute().catch(() => undefined);
      throw error;
    }
  }

  async get(key: string): Promise<Readable | null> {
    if (!(await this.exists(key))) return null;
    const db = this.db;
    // How many chunks the object has, known up front: a chunk missing before the last (the object
    // deleted while it is read) is then an error, never a shorter file that looks complete (a scan
    // or download of it would otherwise accept the truncated bytes).
    const last = await db.selectFrom('attachment_blobs').select((e) => e.fn.max('seq').as('last')).where('key', '=', key).executeTakeFirst();
    const chunks = Number(last?.last ?? -1) + 1;
    return Readable.from(
      (async function* () {
        for (let seq = 0; seq < chunks; seq++) {
          const row = await db.selectFrom('attachment_blobs').select('content').where('key', '=', key).where('seq', '=', seq).executeTakeFirst();
          if (!row) throw new Error(`attachment object ${key} lost its chunk ${seq} of ${chunks} while being read`);
          yield Buffer.from(row.content);
        }
      })(),
    );
  }

  async exists(key: string): Promise<boolean> {
    if (!isContentKey(key)) return false;
    return (await this.db.selectFrom('attachment_blobs').select('seq').where('key', '=', key).where('seq', '=', 0).executeTakeFirst()) !== undefined;
  }

  async delete(key: string): Promise<void> {
    if (!isContentKey(key)) return;
    await this.db.deleteFrom('attachment_blobs').where('key', '=', key).execute();
  }
}

/** A primary-key clash: Postgres SQLSTATE 23505 (https://www.postgresql.org/docs/current/errcodes-appendix.html), SQLite SQLITE_CONSTRAINT_PRIMARYKEY. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
