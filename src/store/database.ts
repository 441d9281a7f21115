import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, sql, SqliteDialect, type MigrationResultSet, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { migrations } from './migrations/index.js';
import type { Tables } from './tables.js';

export type Db = Kysely<Tables>;
export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const PG_INT8_OID = 20;

/** Opens the configured store. Nothing is created or migrated here; see `migrateToLatest`. */
export function openDatabase(config: DatabaseConfig): Database {
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') createPrivately(config.path);
    const sqlite = new BetterSqlite3(config.path);
    // WAL lets readers run while a write commits; the busy timeout rides out a checkpoint instead of
    // failing a turn with SQLITE_BUSY; NORMAL sync is durable at every checkpoint and crash-safe in WAL.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    // A help desk's working set (open tickets, their people and cards) fits in memory: keep up to 64 MB
    // of pages cached and let reads go through a memory map instead of a read() per page.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('mmap_size = 268435456');
    // A ticket change rewrites the same hot index pages over and over; checkpointing every 8k pages
    // instead of every 1k copies each of them back to the database file far less often. (In WAL mode
    // the checkpoint interval does not change durability.)
    sqlite.pragma('wal_autocheckpoint = 8192');
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, 256) }) });
    return {
      db,
      dialect: 'sqlite',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }

  const pool = new pg.Pool({
    connectionString: config.url,
    max: 10,
    // Times are BIGINT epoch milliseconds; they fit a JS number, so read them as one rather than a string.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/**
 * Tickets, people and mail are readable by the service's user only. The file is created here, before
 * SQLite opens it, because SQLite creates it 0644 (less the umask) and gives its -wal and -shm files
 * the database file's permissions (https://www.sqlite.org/tempfiles.html, and SQLITE_DEFAULT_FILE_PERMISSIONS
 * in https://www.sqlite.org/compile.html). Folders it creates are 0700; an existing file keeps the mode
 * its operator gave it.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR });
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

export class DatabaseInUseError extends Error {
  override readonly name = 'DatabaseInUseError';
}

/**
 * SQLite is the single-process store: the rate limits and in-memory state of two services on one file
 * would not see each other. The service takes a lock file beside the database (holding its pid), which
 * keeps a second service out with a clear message; one left by a process that died is taken over.
 * Tools (migrations, `npm run outbox`) open the database without it: short writes beside the service
 * are what SQLite's own locking is for. Returns the release; Postgres needs none.
 */
export function lockForOneService(config: DatabaseConfig): () => void {
  if (config.kind !== 'sqlite' || config.path === ':memory:') return () => undefined;
  mkdirSync(dirname(config.path), { recursive: true, mode: PRIVATE_DIR });
  const path = config.path;
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', PRIVATE_FILE);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseInUseError(
          `Another Service Desk process (pid ${owner}) is using ${path}. SQLite serves one process; stop the other one, or set DATABASE_URL=postgres://… to run several replicas on one database.`,
        );
      }
      // Left behind by a process that is gone (or by this one): take it over.
      unlinkSync(lockPath);
    }
  }
  throw new DatabaseInUseError(`Could not take the lock ${lockPath}; remove it if no Service Desk process is running.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` in a transaction, or in the caller's transaction when `db` already is one. */
export function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/**
 * Kysely prepares every query anew; on SQLite that is a measurable share of a turn. The same SQL text
 * gets the same prepared statement back (statements are reusable, and Kysely runs one query at a time
 * on its single connection), kept in a small least-recently-used cache.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, size: number): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Applies every pending migration in name order; returns the names applied. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // On Postgres the migration tables are looked for in our own schema (the first of the search path).
  // Without a schema, Kysely's check finds another schema's kysely_migration_lock in a shared database,
  // skips creating ours, and then fails to read it.
  const schema = db.getExecutor().adapter instanceof PostgresAdapter ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new MigrationError(
      `Migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      failed?.migrationName,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Whether an error says the database could not be used just now (busy, locked, the connection lost, a
 * serialization conflict), not that the statement was wrong: work that hit one is tried again later
 * rather than blamed on its input. SQLite result codes: https://www.sqlite.org/rescode.html; Postgres
 * SQLSTATE classes 08 (connection), 40 (transaction rollback), 53 (resources), 57P (operator
 * intervention): https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export function isStoreUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL)/.test(code) || /^(08|40|53)[0-9A-Z]{3}$|^57P0[1-3]$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code);
}
