import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromBuffer } from 'file-type';
import { servedType } from '../../domain/attachment-types.js';
import { AttachmentTooLarge, type StoreName } from '../../integrations/storage/port.js';
import type { AttachmentStores } from './stores.js';

/**
 * Where the desk keeps the contents of a file on a ticket, whoever brought it (an email, a Teams chat):
 * in the attachment store (ATTACHMENT_STORE: src/integrations/storage/), under the SHA-256 of the bytes;
 * larger than ATTACHMENT_MAX_BYTES, nothing (the caller keeps a link instead). Memory stays bounded: a
 * file is streamed through, never held whole. Without `stores` (callers built before the stores, and
 * their tests) the old behaviour stays: ATTACHMENT_DIR files with random names, else the row itself.
 */

export interface AttachmentLimits {
  attachmentMaxBytes: number;
  attachmentDir: string | undefined;
  stores?: AttachmentStores;
}

/**
 * Contents as kept: in a store under `contentKey`, or (without stores) in the row's `content` or the file
 * at `location`. `discard` undoes the keeping if the caller's transaction fails.
 */
export interface KeptContent {
  storage: 'database' | 'file';
  size: number;
  content: Buffer | null;
  location: string | null;
  store: StoreName | null;
  contentKey: string | null;
  sniffedType: string | null;
  discard(): Promise<void>;
}

/** The columns a kept file adds to its row, the served content type decided from the declared one and the bytes. */
export function keptColumns(kept: KeptContent, declaredType: string) {
  const served = servedType(declaredType, kept.sniffedType);
  return { size: kept.size, storage: kept.storage, content: kept.content, location: kept.location, store: kept.store, contentKey: kept.contentKey, declaredType, sniffedType: kept.sniffedType, contentType: served.contentType };
}

export const TOO_LARGE = Symbol('too large');

const PRIVATE_FILE = 0o600;

/** Keeps bytes already in memory (a source that lists contents with its files). */
export async function keepBuffer(content: Buffer, name: string, limits: AttachmentLimits): Promise<KeptContent | typeof TOO_LARGE> {
  if (content.length > limits.attachmentMaxBytes) return TOO_LARGE;
  if (limits.stores) return keepInStore(Readable.from([content]), limits.stores, limits.attachmentMaxBytes);
  if (!limits.attachmentDir) return inRow(content);
  const path = await newPath(limits.attachmentDir, name);
  await writeFile(path, content, { flag: 'wx', mode: PRIVATE_FILE });
  return inFile(path, content.length);
}

/** Streams into the primary store; past the limit the transfer is cut and nothing stays. */
async function keepInStore(content: Readable, stores: AttachmentStores, maxBytes: number): Promise<KeptContent | typeof TOO_LARGE> {
  const store = stores.primary;
  try {
    const put = await store.put(content, { maxBytes });
    // The bytes were there already: a release of them meanwhile must not let the sweep delete them
    // before this file's row names them (stores.ts, release).
    if (!put.created) await stores.reused(store.name, put.key);
    return {
      storage: store.name === 'database' ? 'database' : 'file',
      size: put.size,
      content: null,
      location: null,
      store: store.name,
      contentKey: put.key,
      sniffedType: put.sniffedType,
      // Only when no other row names the same bytes.
      discard: () => stores.release(store.name, put.key).then(() => undefined),
    };
  } catch (error) {
    if (error instanceof AttachmentTooLarge) return TOO_LARGE;
    throw error;
  }
}

async function inRow(content: Buffer): Promise<KeptContent> {
  return { storage: 'database', size: content.length, content, location: null, store: null, contentKey: null, sniffedType: (await fileTypeFromBuffer(content.subarray(0, 4100)))?.mime ?? null, discard: async () => undefined };
}

function inFile(path: string, size: number): KeptContent {
  return { storage: 'file', size, content: null, location: path, store: null, contentKey: null, sniffedType: null, discard: () => unlink(path).catch(() => undefined) };
}

/** Keeps a stream's bytes, counting them as they come: past the limit nothing is kept and TOO_LARGE returned. */
export async function keepStream(content: Readable, name: string, limits: AttachmentLimits): Promise<KeptContent | typeof TOO_LARGE> {
  if (limits.stores) return keepInStore(content, limits.stores, limits.attachmentMaxBytes);
  if (!limits.attachmentDir) {
    const gathered = await collect(content, limits.attachmentMaxBytes);
    return gathered === TOO_LARGE ? TOO_LARGE : inRow(gathered);
  }
  const path = await newPath(limits.attachmentDir, name);
  const size = await streamToFile(content, path, limits.attachmentMaxBytes);
  return size === TOO_LARGE ? TOO_LARGE : inFile(path, size);
}

/** Undoes the keeping of files for a change that did not happen after all. */
export async function removeKeptFiles(kept: ReadonlyArray<Pick<KeptContent, 'discard'> | undefined>): Promise<void> {
  await Promise.all(kept.flatMap((k) => (k ? [k.discard().catch(() => undefined)] : [])));
}

async function newPath(dir: string, name: string): Promise<string> {
  // Customers' files: readable by the service's user only, whatever the process umask.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${randomUUID()}-${name}`);
}

/** Writes a stream to a new file; past `max` bytes the file is removed and TOO_LARGE returned. */
async function streamToFile(content: Readable, path: string, max: number): Promise<number | typeof TOO_LARGE> {
  let size = 0;
  let over = false;
  const file = createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE });
  try {
    await pipeline(content, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > max) over = true;
        // Past the limit the rest is read and dropped (see collect).
        if (!over) yield chunk;
      }
    }, file);
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw error;
  }
  if (over) {
    await unlink(path).catch(() => undefined);
    return TOO_LARGE;
  }
  return size;
}

/** Gathers a stream into one buffer of at most `max` bytes. */
export async function collect(content: Readable, max: number): Promise<Buffer | typeof TOO_LARGE> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  await pipeline(
    content,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > max) over = true;
        else chunks.push(chunk);
        done();
      },
    }),
  );
  // Past the limit the rest is read and thrown away rather than the connection cut: a stream aborted
  // mid-way would be retried by the peer as a failed transfer.
  return over ? TOO_LARGE : Buffer.concat(chunks, size);
}
