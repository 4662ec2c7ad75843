import { Kysely, Migrator, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Dialect } from './dialect.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export interface MetaDb {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface SqliteMetaDb extends MetaDb {
  dialect: 'sqlite';
  sqlite: SQLite.Database;
}

export function openSqlite(path: string): SqliteMetaDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers run beside the writer and a `berth gc` process beside `berth serve`;
  // synchronous=NORMAL in WAL mode loses nothing on a process crash.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
}

export async function migrate(meta: MetaDb): Promise<void> {
  const provider = { getMigrations: async () => migrations(meta.dialect) };
  const migrator = new Migrator({ db: meta.db, provider, migrationTableName: 'berth_migrations', migrationLockTableName: 'berth_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`metadata migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}
