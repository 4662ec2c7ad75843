import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { MetaDb } from './database.js';
import type { Database } from './schema.js';

export interface PostgresMetaDb extends MetaDb {
  dialect: 'postgres';
  pool: pg.Pool;
  /** This process's `application_name`, which tags the change notifications its writes cause. */
  origin: string;
}

/**
 * bigint columns (sizes, times, ids) come back from pg as strings, because
 * int8 can exceed 2^53; Berth's values never do, so they are parsed as numbers.
 * Set per pool, not on pg's global registry, so nothing else in the process changes.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function openPostgres(url: string, opts: { poolSize?: number } = {}): PostgresMetaDb {
  const origin = `berth-${process.pid}-${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, application_name: origin, types });
  // An idle client losing its server (a restart, a failover) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, reader: db, dialect: 'postgres', pool, origin, close: () => db.destroy() };
}

/** The URL with its password masked, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
