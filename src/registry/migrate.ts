import { createHash, randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { copyMetadata, type MetadataCopyStats } from '../meta/copy.js';
import { algorithmOf, hexOf, type Digest } from '../oci/digest.js';
import type { BlobStore, UploadId } from '../store/blob-store.js';

export interface Registry {
  store: BlobStore;
  db: Kysely<any>;
}

export interface MigrateOptions {
  /** Rehash blobs the destination already holds, instead of trusting a matching size. */
  verifyExisting: boolean;
  onProgress?: (event: { digest: Digest; size: number; outcome: 'copied' | 'present' | 'failed'; error?: string }) => void;
}

export interface MigrateReport {
  blobs: { copied: number; copiedBytes: number; present: number };
  failed: { digest: Digest; error: string }[];
  metadata?: MetadataCopyStats;
}

/**
 * Copies a whole registry (every blob in the store, then the metadata index)
 * from one backend to another, verifying every digest on the way. Blobs come
 * first, so the destination's index never names bytes it lacks; each blob
 * goes through the destination's upload path and is committed only after its
 * digest checks out. Running it again resumes: blobs present are skipped and
 * metadata rows are merged. Metadata is copied only when no blob failed.
 */
export async function migrateRegistry(from: Registry, to: Registry, opts: MigrateOptions): Promise<MigrateReport> {
  const report: MigrateReport = { blobs: { copied: 0, copiedBytes: 0, present: 0 }, failed: [] };
  for await (const { digest, size } of from.store.walk()) {
    try {
      const existing = await to.store.stat(digest);
      if (existing && existing.size === size && (!opts.verifyExisting || (await hashOf(to.store, digest)) === hexOf(digest))) {
        report.blobs.present += 1;
        opts.onProgress?.({ digest, size, outcome: 'present' });
        continue;
      }
      await copyBlob(from.store, to.store, digest);
      report.blobs.copied += 1;
      report.blobs.copiedBytes += size;
      opts.onProgress?.({ digest, size, outcome: 'copied' });
    } catch (e) {
      const error = (e as Error).message;
      report.failed.push({ digest, error });
      opts.onProgress?.({ digest, size, outcome: 'failed', error });
    }
  }
  if (report.failed.length === 0) report.metadata = await copyMetadata(from.db, to.db);
  return report;
}

async function copyBlob(from: BlobStore, to: BlobStore, digest: Digest): Promise<void> {
  const hash = createHash(algorithmOf(digest));
  const id = randomUUID() as UploadId;
  await to.startUpload(id);
  try {
    const source = await from.read(digest);
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const [size] = await Promise.all([to.writeUpload(id, 0, hashing), pipeline(source, hashing)]);
    const actual = hash.digest('hex');
    if (actual !== hexOf(digest)) throw new Error(`source bytes hash to ${algorithmOf(digest)}:${actual}, not ${digest}: the source copy is corrupt`);
    await to.sealUpload(id, size);
    await to.commitUpload(id, size, digest);
  } catch (e) {
    await to.abortUpload(id).catch(() => {});
    throw e;
  }
}

async function hashOf(store: BlobStore, digest: Digest): Promise<string> {
  const hash = createHash(algorithmOf(digest));
  for await (const chunk of await store.read(digest)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
