import { migrate, openSqlite, type SqliteMetaDb } from '../meta/database.js';
import type { PostgresMetaDb } from '../meta/postgres.js';
import type { BlobStore } from '../store/blob-store.js';
import { FilesystemStore } from '../store/filesystem.js';
import { ensureWritableDirectory, ensureWritableIfPresent } from '../store/directories.js';
import { dirname } from 'node:path';
import { blobRoot, sqlitePath, type Config } from './config.js';
import { s3StoreOptions } from './s3.js';
import { policySettings } from './storage.js';
import { Metadata } from '../meta/metadata.js';
import { RegistryContext } from '../registry/context.js';
import { StoragePolicy } from '../registry/policy.js';

export interface Backends {
  store: BlobStore;
  metaDb: SqliteMetaDb | PostgresMetaDb;
  /** Where data lives, for the startup log line (no secrets). */
  describe: { blobs: string; metadata: string };
}

/**
 * Opens the configured blob store and metadata database, and brings the schema up to date.
 * The S3 and PostgreSQL drivers load only when configured: together they cost about 35 MiB of RSS.
 * Worker threads open with `migrate: false`: the server migrated before it started them.
 */
export async function openBackends(config: Config, opts: { migrate?: boolean } = {}): Promise<Backends> {
  const s3 = config.storage.s3;
  let store: BlobStore;
  let blobs: string;
  if (s3) {
    const { S3Store } = await import('../store/s3.js');
    store = new S3Store(s3StoreOptions(s3));
    blobs = `s3://${s3.bucket}/${s3.prefix}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`;
  } else {
    await ensureWritableDirectory(blobRoot(config), config.storage.filesystem.root ? 'storage.filesystem.root' : 'data');
    const fs = new FilesystemStore({ root: blobRoot(config), fsync: config.storage.filesystem.fsync });
    await fs.init();
    store = fs;
    blobs = blobRoot(config);
  }
  const pg = config.metadata.postgres;
  if (!pg) await checkSqliteFiles(sqlitePath(config));
  const postgres = pg && (await import('../meta/postgres.js'));
  const metaDb = pg && postgres ? postgres.openPostgres(pg.url, { poolSize: pg.poolSize }) : openSqlite(sqlitePath(config));
  const metadata = pg && postgres ? postgres.redactUrl(pg.url) : sqlitePath(config);
  try {
    if (opts.migrate !== false) await migrate(metaDb);
  } catch (e) {
    await metaDb.close();
    // Name the database (password masked): a bare ECONNREFUSED does not say which setting to fix.
    throw new Error(`metadata database ${metadata}: ${(e as Error).message}`, { cause: e });
  }
  return { store, metaDb, describe: { blobs, metadata } };
}

/**
 * SQLite writes its -wal and -shm files beside the database; a -shm the
 * process cannot write kills it with SIGBUS and no log line on first use.
 */
async function checkSqliteFiles(path: string): Promise<void> {
  await ensureWritableDirectory(dirname(path), 'metadata.sqlite.path');
  for (const f of [path, `${path}-wal`, `${path}-shm`]) await ensureWritableIfPresent(f, 'metadata.sqlite.path');
}

/** The registry's use cases over opened backends, with the limits and storage policy the config sets. */
export function registryContext(config: Config, backends: Pick<Backends, 'store' | 'metaDb'>): RegistryContext {
  const { store, metaDb } = backends;
  // `fsync: false` gives up durability for speed: the metadata's too, then.
  const durable = metaDb.dialect === 'sqlite' && config.storage.filesystem.fsync ? () => metaDb.durable() : undefined;
  const ctx = new RegistryContext(store, new Metadata(metaDb.db, metaDb.reader, durable), {
    maxManifestBytes: config.limits.maxManifestSize,
    maxListEntries: config.limits.maxListEntries,
    uploadExpiryMs: config.uploads.expiry,
    maxUploadSessions: config.uploads.maxSessions,
    manifestBytesInFlight: config.limits.manifestsInFlight,
    cache: { manifestBytes: config.cache.manifests, metadataBytes: config.cache.metadata },
  });
  ctx.policy = new StoragePolicy(policySettings(config));
  return ctx;
}
