import { Kysely, Migrator, SqliteDialect, type SqliteDatabase } from 'kysely';
import SQLite from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FsyncGroup } from '../util/fsync-group.js';
import type { Dialect } from './dialect.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';
import { LRUCache } from 'lru-cache';

export interface MetaDb {
  db: Kysely<Database>;
  /**
   * For the hot reads outside transactions (HEAD blob, tag and manifest
   * lookups, listings). With SQLite it is a second connection: Kysely runs
   * one connection's queries one at a time, and WAL lets a reader see the
   * last commit while a write transaction is open, so reads no longer queue
   * behind commits. With PostgreSQL the pool already does this: it is `db`.
   */
  reader: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface SqliteMetaDb extends MetaDb {
  dialect: 'sqlite';
  sqlite: SQLite.Database;
  /**
   * Makes every transaction committed so far durable: synchronous=NORMAL
   * writes a commit into the WAL without an fsync, so a push would survive
   * a crash of the process but not of the machine. One fdatasync of the WAL,
   * shared by every commit waiting for it, closes that before a push is
   * acknowledged, without holding the writer connection while it runs.
   */
  durable(): Promise<void>;
}

export function openSqlite(path: string): SqliteMetaDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = connect(path);
  // WAL lets readers run beside the writer and a `berth gc` process beside `berth serve`;
  // synchronous=NORMAL in WAL mode loses nothing on a process crash.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  if (path === ':memory:') return { db, reader: db, dialect: 'sqlite', sqlite, durable: async () => {}, close: () => db.destroy() };
  const readConnection = connect(path);
  readConnection.pragma('query_only = ON');
  const reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(readConnection) }) });
  // The connections keep the WAL in place (SQLite removes it when the last one closes), so its handle can stay open too.
  const wal = new FsyncGroup('data', true);
  const close = async () => {
    await Promise.all([reader.destroy(), db.destroy()]);
    await wal.close();
  };
  return { db, reader, dialect: 'sqlite', sqlite, durable: () => wal.sync(`${path}-wal`), close };
}

function connect(path: string): SQLite.Database {
  const sqlite = new SQLite(path);
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * Kysely prepares every query afresh; parsing and planning the same SQL on
 * every request was the largest metadata cost in the serve profile. Statements
 * are kept per SQL text; one busy iterating (a streamed query) is not shared.
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new LRUCache<string, SQLite.Statement>({ max: 500 });
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const stmt = sqlite.prepare(sql);
      if (!cached) statements.set(sql, stmt);
      return stmt;
    },
  };
}

export async function migrate(meta: MetaDb): Promise<void> {
  const provider = { getMigrations: async () => migrations(meta.dialect) };
  // Unordered: features are numbered when they start and may land out of order; each migration touches only its own tables.
  const migrator = new Migrator({ db: meta.db, provider, migrationTableName: 'berth_migrations', migrationLockTableName: 'berth_migrations_lock', allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`metadata migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}
