import { randomUUID } from 'node:crypto';
import type { SqliteMetaDb } from './database.js';
import type { PostgresMetaDb } from './postgres.js';

export type LeaseResult<T> = { held: true; value: T } | { held: false };

/**
 * Runs scheduled work (upload purge, GC) on one process at a time.
 *
 * PostgreSQL: a session advisory lock on a dedicated connection. If the
 * holder dies, its connection closes and the lock is free at once; the next
 * replica whose timer fires takes it. SQLite: a row with an expiry that the
 * holder renews while it works; a dead holder's lease lapses after `ttlMs`.
 */
export interface Leases {
  /** Runs `fn` if nobody else holds `name`; otherwise resolves to `{ held: false }` without waiting. */
  withLease<T>(name: string, fn: () => Promise<T>): Promise<LeaseResult<T>>;
}

export function openLeases(meta: SqliteMetaDb | PostgresMetaDb, ttlMs = 60_000): Leases {
  return meta.dialect === 'postgres' ? new AdvisoryLeases(meta) : new RowLeases(meta, ttlMs);
}

class AdvisoryLeases implements Leases {
  constructor(private readonly meta: PostgresMetaDb) {}

  async withLease<T>(name: string, fn: () => Promise<T>): Promise<LeaseResult<T>> {
    const client = await this.meta.pool.connect();
    let broken = false;
    try {
      // Two int4 keys: a key space apart from the single bigint key Kysely's migrator locks.
      const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('berth-lease'), hashtext($1)) AS ok", [name]);
      if (!r.rows[0]?.ok) return { held: false };
      try {
        return { held: true, value: await fn() };
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('berth-lease'), hashtext($1))", [name]).catch(() => (broken = true));
      }
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      // A connection that failed may still hold the lock server-side: destroy it rather than pool it.
      client.release(broken);
    }
  }
}

class RowLeases implements Leases {
  private readonly holder = randomUUID();

  constructor(
    private readonly meta: SqliteMetaDb,
    private readonly ttlMs: number,
  ) {}

  async withLease<T>(name: string, fn: () => Promise<T>): Promise<LeaseResult<T>> {
    if (!(await this.claim(name))) return { held: false };
    const renew = setInterval(() => void this.claim(name).catch(() => {}), this.ttlMs / 3);
    renew.unref();
    try {
      return { held: true, value: await fn() };
    } finally {
      clearInterval(renew);
      await this.meta.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', this.holder).execute();
    }
  }

  /** Takes or renews the lease: succeeds when it is free, lapsed, or already ours. */
  private async claim(name: string): Promise<boolean> {
    const now = Date.now();
    await this.meta.db
      .insertInto('leases')
      .values({ name, holder: this.holder, expires_at: now + this.ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.holder, expires_at: now + this.ttlMs })
          .where((eb) => eb.or([eb('leases.expires_at', '<', now), eb('leases.holder', '=', this.holder)])),
      )
      .execute();
    const row = await this.meta.db.selectFrom('leases').select('holder').where('name', '=', name).executeTakeFirst();
    return row?.holder === this.holder;
  }
}
