import type { Storage, StoreItems } from 'botbuilder';
import { deleteState, readState, writeState } from '../store/bot-state.js';
import type { Db } from '../store/database.js';

/** teams-ai turn state in our own database, so every replica sees the same conversation state. */
export class SqlStorage implements Storage {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  async read(keys: string[]): Promise<StoreItems> {
    const found = await readState(this.db, keys);
    const items: StoreItems = {};
    for (const [key, { value, etag }] of found) {
      items[key] = value !== null && typeof value === 'object' ? { ...value, eTag: etag } : value;
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    const items = new Map<string, unknown>();
    for (const [key, value] of Object.entries(changes)) {
      if (value !== null && typeof value === 'object') {
        // The eTag is ours to assign; see store/bot-state.ts for why writes are last-writer-wins.
        const { eTag: _ignored, ...rest } = value as Record<string, unknown>;
        items.set(key, rest);
      } else {
        items.set(key, value);
      }
    }
    await writeState(this.db, items, this.clock());
  }

  async delete(keys: string[]): Promise<void> {
    await deleteState(this.db, keys);
  }
}
