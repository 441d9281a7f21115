import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';

/**
 * Where attachment contents live (ATTACHMENT_STORE): the database, a folder, Azure Blob Storage or an
 * S3-compatible bucket, behind one small port. Objects are content-addressed: `put` streams the bytes
 * to a temporary name while hashing them, then commits them under their SHA-256 (hex), never
 * overwriting an object already there, so identical files are kept once. Rows of attachments name
 * the key; deleting an object is the caller's decision, taken only when no row names it any more
 * (src/store/attachment-objects.ts).
 */

export const STORE_NAMES = ['database', 'folder', 'azure', 's3'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export interface PutResult {
  /** The SHA-256 of the bytes, in lower-case hex. */
  key: string;
  size: number;
  /** The MIME type the first bytes show (file-type's signatures), or null when they show none (plain text, say). */
  sniffedType: string | null;
  /** False when an object with the same bytes was there already (deduplicated). */
  created: boolean;
}

export interface SignedUrlOptions {
  ttlMs: number;
  /** The Content-Disposition the store answers with (`attachment; filename=…`). */
  contentDisposition: string;
  contentType: string;
}

export interface AttachmentStore {
  readonly name: StoreName;
  /**
   * Streams `content` in, at most `maxBytes` of it: past that the transfer is aborted, the temporary
   * object removed and AttachmentTooLarge thrown.
   */
  put(content: Readable, options: { maxBytes: number }): Promise<PutResult>;
  /** The object's bytes as a stream, or null when there is no such object. */
  get(key: string): Promise<Readable | null>;
  exists(key: string): Promise<boolean>;
  /** Removes the object (nothing happens when it is not there). */
  delete(key: string): Promise<void>;
  /** A short-lived URL of the store itself that serves the object as a download; only stores that have one. */
  signedUrl?(key: string, options: SignedUrlOptions): Promise<string>;
  /** Where the store is, for logs and `npm run doctor` (never a secret). */
  describe(): string;
}

export class AttachmentTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file is larger than ${maxBytes} bytes`);
    this.name = 'AttachmentTooLarge';
  }
}

/** A key as `put` makes it; anything else is refused before it reaches a path or URL. */
export function isContentKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}

/** file-type reads at most this many bytes of a file to recognise it (its `reader` sample size). */
const SNIFF_BYTES = 4100;

/**
 * Passes bytes through while counting and hashing them and keeping the first few kilobytes for
 * sniffing; past `maxBytes` it fails with AttachmentTooLarge, which aborts the pipeline it is in
 * (the source is destroyed, so no more is read). Memory: one chunk in flight plus 4 KB.
 */
export class Measure extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private head: Buffer[] = [];
  private headBytes = 0;
  // Not named `size`: lib-storage's Upload reads a Body's `size` as its total length.
  private bytesSeen = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytesSeen += chunk.length;
    if (this.bytesSeen > this.maxBytes) {
      done(new AttachmentTooLarge(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    if (this.headBytes < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headBytes);
      this.head.push(Buffer.from(part));
      this.headBytes += part.length;
    }
    done(null, chunk);
  }

  /** After the stream ended: the key, size and sniffed type (call once). */
  async result(): Promise<{ key: string; size: number; sniffedType: string | null }> {
    const sniffed = await fileTypeFromBuffer(Buffer.concat(this.head));
    return { key: this.hash.digest('hex'), size: this.bytesSeen, sniffedType: sniffed?.mime ?? null };
  }
}
