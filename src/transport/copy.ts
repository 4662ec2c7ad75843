import { isIndexType } from '../oci/mediatypes.js';
import { parseManifest } from '../oci/manifest.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { ImageSink, ImageSource, Manifest } from './image.js';
import type { PlatformSpec } from './platform.js';
import { imageFor } from './select.js';

export type BlobStatus = 'waiting' | 'exists' | 'transferring' | 'mounted' | 'done';

export type CopyEvent =
  | { type: 'blob'; desc: Descriptor; status: BlobStatus; transferred?: number }
  | { type: 'manifest'; manifest: Manifest; root: boolean };

export interface CopyOptions {
  /** Copy every image of an index (else the one for `platform`). */
  all?: boolean;
  platform?: PlatformSpec;
  onEvent?: (e: CopyEvent) => void;
  /** Blobs in flight at once; docker uses 3. */
  concurrency?: number;
}

export interface CopyResult {
  /** What the source reference names (an index digest for multi-arch images). */
  sourceDigest: Digest;
  /** The manifest the destination reference now names. */
  root: Manifest;
  /** Bytes actually transferred (blobs already at the destination excluded). */
  transferred: number;
}

/**
 * Copies one image or index between any source and sink (go-containerregistry's
 * shape): blobs first, each streamed and verified, then child manifests, then
 * the root. Nothing is visible at the destination until `commit`.
 */
export async function copyImage(src: ImageSource, dst: ImageSink, opts: CopyOptions = {}): Promise<CopyResult> {
  const state = { transferred: 0 };
  try {
    const sourceRoot = await src.root();
    const keepIndex = isIndexType(sourceRoot.mediaType) && opts.all && dst.acceptsIndex;
    const root = keepIndex ? sourceRoot : await imageFor(src, sourceRoot, opts.platform);
    await copyManifest(src, dst, root, true, opts, state);
    await dst.commit({ sourceDigest: sourceRoot.digest });
    return { sourceDigest: sourceRoot.digest, root, transferred: state.transferred };
  } catch (e) {
    await dst.abort();
    throw e;
  }
}

async function copyManifest(src: ImageSource, dst: ImageSink, m: Manifest, root: boolean, opts: CopyOptions, state: { transferred: number }): Promise<void> {
  const facts = parseManifest(m.bytes, m.mediaType);
  for (const child of facts.manifests) {
    await copyManifest(src, dst, await src.manifest(child), false, opts, state);
  }
  await pool(facts.blobs, opts.concurrency ?? 3, (desc) => copyBlob(src, dst, desc, opts, state), (desc) => opts.onEvent?.({ type: 'blob', desc, status: 'waiting' }));
  await dst.putManifest(m, root);
  opts.onEvent?.({ type: 'manifest', manifest: m, root });
}

async function copyBlob(src: ImageSource, dst: ImageSink, desc: Descriptor, opts: CopyOptions, state: { transferred: number }): Promise<void> {
  const emit = (status: BlobStatus, transferred?: number) =>
    opts.onEvent?.(transferred === undefined ? { type: 'blob', desc, status } : { type: 'blob', desc, status, transferred });
  if (await dst.hasBlob(desc)) return emit('exists');
  const mountFrom = dst.registry && src.mountCandidates ? await src.mountCandidates(dst.registry, desc) : [];
  let transferred = 0;
  const onBytes = (n: number) => {
    transferred += n;
    state.transferred += n;
    emit('transferring', transferred);
  };
  const open = (offset = 0) => {
    if (dst.reportsBytes) return src.blob(desc, undefined, offset);
    // A resumed download counts from where the partial stands, as docker's progress does.
    transferred = offset;
    return src.blob(desc, onBytes, offset);
  };
  // A push counts bytes as they leave, not as they are read into the next chunk.
  const how = await dst.putBlob(desc, open, dst.reportsBytes ? { mountFrom, onBytes } : { mountFrom });
  emit(how === 'mounted' ? 'mounted' : 'done');
}

/** Runs `work` over distinct blobs with at most `limit` at once; the first failure fails the whole. */
async function pool(items: Descriptor[], limit: number, work: (d: Descriptor) => Promise<void>, queued: (d: Descriptor) => void): Promise<void> {
  const unique = [...new Map(items.map((d) => [d.digest, d])).values()];
  unique.forEach(queued);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, unique.length) }, async () => {
    while (next < unique.length) await work(unique[next++]!);
  });
  await Promise.all(workers);
}
