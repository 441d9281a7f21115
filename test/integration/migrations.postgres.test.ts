import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import { postgresSchema } from '../support/databases.js';

/**
 * A Postgres database shared with other schemas (another app, another replica set, parallel test
 * files) may hold Kysely's migration tables in a schema that is not ours; ours must still be made.
 */
describe('migrations on a shared Postgres database', () => {
  const dropped: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const drop of dropped.splice(0)) await drop();
  });

  it('migrates a fresh schema while another schema already has the migration tables', async () => {
    const first = (await postgresSchema())!;
    const second = (await postgresSchema())!;
    dropped.push(first.drop, second.drop);
    for (const { url } of [first, second]) {
      const database = openDatabase({ kind: 'postgres', url });
      try {
        expect((await migrateToLatest(database.db)).length).toBeGreaterThan(0);
        // Migrated again: nothing left to apply, read from this schema's own records.
        expect(await migrateToLatest(database.db)).toEqual([]);
      } finally {
        await database.close();
      }
    }
  });
});
