import type pg from 'pg';
import type { SqliteMetaDb } from './database.js';
import { CHANGE_CHANNEL } from './migrations/002-replicas.js';
import type { PostgresMetaDb } from './postgres.js';

export interface ChangeFeedOptions {
  /** Called when another process committed a write to cached metadata. */
  onChange: () => void;
  /** SQLite poll interval; on PostgreSQL, how often to retry a lost LISTEN connection. */
  intervalMs: number;
  onError?: (err: unknown) => void;
}

/**
 * Tells this process when others changed metadata, so it drops cached tags,
 * manifests and repository ids.
 *
 * Staleness is bounded by about two `intervalMs`. PostgreSQL delivers NOTIFY
 * on commit (milliseconds). A read that was already in flight when the
 * notification arrived may cache the old value after the drop, so every
 * notification is followed by a second drop one interval later. The LISTEN
 * connection is probed every interval; while it is down (or a probe takes
 * longer than an interval) every tick reports a change, so nothing cached
 * outlives one interval then either. SQLite is polled with
 * `PRAGMA data_version`, which moves when another connection (a `berth` CLI
 * beside `berth serve`) commits.
 */
export function watchChanges(meta: SqliteMetaDb | PostgresMetaDb, opts: ChangeFeedOptions): () => Promise<void> {
  return meta.dialect === 'postgres' ? listen(meta, opts) : poll(meta, opts);
}

function poll(meta: SqliteMetaDb, opts: ChangeFeedOptions): () => Promise<void> {
  let seen = meta.sqlite.pragma('data_version', { simple: true });
  const timer = setInterval(() => {
    try {
      const now = meta.sqlite.pragma('data_version', { simple: true });
      if (now !== seen) opts.onChange();
      seen = now;
    } catch (err) {
      opts.onError?.(err);
    }
  }, opts.intervalMs);
  timer.unref();
  return async () => clearInterval(timer);
}

function listen(meta: PostgresMetaDb, opts: ChangeFeedOptions): () => Promise<void> {
  let client: pg.PoolClient | undefined;
  let connecting = false;
  let stopped = false;

  let trailing: NodeJS.Timeout | undefined;
  const onNotification = (n: pg.Notification) => {
    if (n.payload === meta.origin) return;
    opts.onChange();
    trailing ??= setTimeout(() => {
      trailing = undefined;
      opts.onChange();
    }, opts.intervalMs);
    trailing.unref();
  };
  const drop = (err: unknown) => {
    opts.onError?.(err);
    const c = client;
    client = undefined;
    c?.release(true);
    opts.onChange();
  };
  const connect = async () => {
    if (client || connecting || stopped) return;
    connecting = true;
    let c: pg.PoolClient | undefined;
    try {
      c = await meta.pool.connect();
      c.on('notification', onNotification);
      c.on('error', drop);
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
      client = c;
      // Writes made while we were not listening were missed.
      opts.onChange();
    } catch (err) {
      c?.release(true);
      opts.onError?.(err);
    } finally {
      connecting = false;
    }
  };

  let probing = false;
  const probe = async (c: pg.PoolClient) => {
    probing = true;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.query('SELECT 1'),
        new Promise((_, reject) => (timeout = setTimeout(() => reject(new Error('change feed connection unresponsive')), opts.intervalMs))),
      ]);
    } catch (err) {
      if (client === c) drop(err);
    } finally {
      clearTimeout(timeout);
      probing = false;
    }
  };
  const timer = setInterval(() => {
    if (!client) {
      opts.onChange();
      void connect();
    } else if (!probing) {
      void probe(client);
    }
  }, opts.intervalMs);
  timer.unref();
  void connect();
  return async () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(trailing);
    const c = client;
    client = undefined;
    if (c) {
      c.removeListener('error', drop);
      await c.query(`UNLISTEN ${CHANGE_CHANNEL}`).catch(() => {});
      c.release(true);
    }
  };
}

/** Whether another connection (another process) committed since the last call: one cheap pragma, for a check on every cache lookup. */
export function sqliteChanges(meta: SqliteMetaDb): () => boolean {
  // Prepared once: `sqlite.pragma()` parses its SQL on every call, and this runs on every lookup.
  const dataVersion = meta.sqlite.prepare('PRAGMA data_version').pluck();
  let seen = dataVersion.get();
  return () => {
    const now = dataVersion.get();
    if (now === seen) return false;
    seen = now;
    return true;
  };
}
