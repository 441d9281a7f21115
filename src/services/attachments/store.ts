import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where the desk keeps the contents of a file on a ticket, whoever brought it (an email, a Teams chat):
 * ATTACHMENT_DIR when set, else the database; larger than ATTACHMENT_MAX_BYTES, nothing (the caller
 * keeps a link instead). Memory stays bounded: a file is streamed to disk, or gathered for the
 * database up to the limit and no further.
 */

export interface AttachmentLimits {
  attachmentMaxBytes: number;
  attachmentDir: string | undefined;
}

/** Contents as kept: in the database, or in a file whose path is `location` (to remove if the caller's transaction fails). */
export type KeptContent = { storage: 'database'; size: number; content: Buffer; location: null; path: undefined } | { storage: 'file'; size: number; content: null; location: string; path: string };

export const TOO_LARGE = Symbol('too large');

const PRIVATE_FILE = 0o600;

/** Keeps bytes already in memory (a source that lists contents with its files). */
export async function keepBuffer(content: Buffer, name: string, limits: AttachmentLimits): Promise<KeptContent | typeof TOO_LARGE> {
  if (content.length > limits.attachmentMaxBytes) return TOO_LARGE;
  if (!limits.attachmentDir) return { storage: 'database', size: content.length, content, location: null, path: undefined };
  const path = await newPath(limits.attachmentDir, name);
  await writeFile(path, content, { flag: 'wx', mode: PRIVATE_FILE });
  return { storage: 'file', size: content.length, content: null, location: path, path };
}

/** Keeps a stream's bytes, counting them as they come: past the limit nothing is kept and TOO_LARGE returned. */
export async function keepStream(content: Readable, name: string, limits: AttachmentLimits): Promise<KeptContent | typeof TOO_LARGE> {
  if (!limits.attachmentDir) {
    const gathered = await collect(content, limits.attachmentMaxBytes);
    return gathered === TOO_LARGE ? TOO_LARGE : { storage: 'database', size: gathered.length, content: gathered, location: null, path: undefined };
  }
  const path = await newPath(limits.attachmentDir, name);
  const size = await streamToFile(content, path, limits.attachmentMaxBytes);
  return size === TOO_LARGE ? TOO_LARGE : { storage: 'file', size, content: null, location: path, path };
}

/** Removes files kept for a change that did not happen after all. */
export async function removeKeptFiles(paths: ReadonlyArray<string | undefined>): Promise<void> {
  await Promise.all(paths.flatMap((path) => (path ? [unlink(path).catch(() => undefined)] : [])));
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
