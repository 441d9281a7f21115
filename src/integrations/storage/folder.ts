import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AttachmentTooLarge, isContentKey, Measure, type AttachmentStore, type PutResult } from './port.js';

/**
 * Attachments in a folder (ATTACHMENT_DIR): `<dir>/<sha256>`, readable by the service's user only
 * (files 0600, the folder 0700, whatever the umask). A file is written under a temporary name
 * (`.<uuid>.part`) and then hard-linked under its hash: link(2) fails with EEXIST when the name is
 * taken, so an object is never overwritten and two writers of the same bytes both end with one copy.
 * https://man7.org/linux/man-pages/man2/link.2.html
 */
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

export class FolderStore implements AttachmentStore {
  readonly name = 'folder' as const;

  constructor(private readonly dir: string) {}

  describe(): string {
    return `folder ${this.dir}`;
  }

  private pathOf(key: string): string {
    if (!isContentKey(key)) throw new Error('not an attachment key');
    return join(this.dir, key);
  }

  async put(content: Readable, options: { maxBytes: number }): Promise<PutResult> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR });
    const temp = join(this.dir, `.${randomUUID()}.part`);
    const measure = new Measure(options.maxBytes);
    try {
      await pipeline(content, measure, createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE }));
      const result = await measure.result();
      let created = true;
      try {
        await link(temp, this.pathOf(result.key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        created = false;
      }
      return { ...result, created };
    } catch (error) {
      if (error instanceof AttachmentTooLarge) content.destroy();
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Readable | null> {
    if (!(await this.exists(key))) return null;
    return createReadStream(this.pathOf(key));
  }

  async exists(key: string): Promise<boolean> {
    if (!isContentKey(key)) return false;
    return stat(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    if (!isContentKey(key)) return;
    await unlink(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
