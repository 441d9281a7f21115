import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';
import { migrateToLatest, openDatabase, type Database } from '../../src/store/database.js';

/**
 * The engines a store test runs against: SQLite always, PostgreSQL when TEST_DATABASE_URL is set
 * (.ci/run sets it when a server answers on 127.0.0.1:5432). Each Postgres database gets a schema of
 * its own, dropped afterwards, so runs never see each other's rows.
 */
export interface TestEngine {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ database: Database; cleanup(): Promise<void> }>;
}

const sqlite: TestEngine = {
  name: 'sqlite',
  async open() {
    const database = openDatabase({ kind: 'sqlite', path: ':memory:' });
    await migrateToLatest(database.db);
    return { database, cleanup: () => database.close() };
  },
};

const postgresUrl = process.env.TEST_DATABASE_URL;

const postgres: TestEngine = {
  name: 'postgres',
  async open() {
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const url = new URL(postgresUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const config: DatabaseConfig = { kind: 'postgres', url: url.toString() };
    const database = openDatabase(config);
    await migrateToLatest(database.db);
    return {
      database,
      async cleanup() {
        await database.close();
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      },
    };
  },
};

export const engines: TestEngine[] = postgresUrl ? [sqlite, postgres] : [sqlite];

/** A fresh Postgres schema as a DATABASE_URL (for services, which migrate it themselves); undefined without TEST_DATABASE_URL. */
export async function postgresSchema(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!postgresUrl) return undefined;
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}
