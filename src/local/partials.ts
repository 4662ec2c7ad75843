import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';
import { algorithmOf, hexOf, isDigest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { humanSize } from '../util/size.js';
import { LayoutError, type OciLayout } from './layout.js';

/** Opens the blob's bytes from `offset` on (a registry answers that with `Range`). */
export type OpenAt = (offset: number) => Promise<Readable>;

export interface Partial {
  digest: Digest;
  /** Bytes downloaded so far. */
  size: number;
  path: string;
  /** A running pull holds it. */
  inUse: boolean;
}

/** The disk of the local store is full: retrying cannot help, so the message says where and how much. */
export class StoreFullError extends LayoutError {}

/** A lock not refreshed for this long belongs to a process that died without releasing it (kill -9). */
const LOCK_STALE_MS = 10_000;

const partialDir = (layout: OciLayout): string => join(layout.dir, 'blobs', '.partial');
const partialPath = (layout: OciLayout, digest: Digest): string => join(partialDir(layout), `${algorithmOf(digest)}-${hexOf(digest)}`);

/**
 * Downloads a blob into `blobs/.partial/<alg>-<hex>`, a name any later pull
 * finds: when a pull is interrupted (Ctrl-C, a lost connection, a full disk)
 * the bytes stay, and the next pull of any image needing that blob rehashes
 * what is there and asks only for the rest. The blob appears under its
 * digest only once size and digest match. One process works on a partial at
 * a time (a lock file); another one pulling the same blob meanwhile
 * downloads into a temp file of its own instead of waiting.
 */
export async function fetchResumable(layout: OciLayout, desc: Pick<Descriptor, 'digest' | 'size'>, open: OpenAt): Promise<void> {
  const path = partialPath(layout, desc.digest);
  await mkdir(partialDir(layout), { recursive: true });
  await mkdir(dirname(layout.blobPath(desc.digest)), { recursive: true });
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, { realpath: false, stale: LOCK_STALE_MS, retries: 0, onCompromised: (e) => (compromised = e) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    return layout.writeBlob(desc, await open(0));
  }
  try {
    for (let fromScratch = false; ; fromScratch = true) {
      const have = fromScratch ? { size: 0, hash: createHash(algorithmOf(desc.digest)) } : await prefix(path, desc);
      const size = await append(layout, path, desc, have, open);
      // Another process took the lock over (ours went stale): what is in the file is not only what we hashed.
      if (compromised) throw new LayoutError(`lost the lock on ${path} (${compromised.message}); pull again`);
      const actual = `${algorithmOf(desc.digest)}:${have.hash.digest('hex')}`;
      if (actual === desc.digest && size === desc.size) return await rename(path, layout.blobPath(desc.digest));
      await rm(path, { force: true });
      // Resumed bytes that do not add up (a partial from a server that changed its mind): once more, from byte 0.
      if (have.size > 0 && !fromScratch) continue;
      throw new LayoutError(`content for ${desc.digest} hashed to ${actual} (${size} bytes, expected ${desc.size}); not stored`);
    }
  } finally {
    await release();
  }
}

/** Rehashes what an earlier pull left; a partial longer than the blob is useless and starts over. */
async function prefix(path: string, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<{ size: number; hash: Hash }> {
  const hash = createHash(algorithmOf(desc.digest));
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (size === 0 || size > desc.size) {
    await truncate(path, 0).catch(() => undefined);
    return { size: 0, hash };
  }
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { size, hash };
}

/** Appends the rest of the blob to the partial, hashing as it goes; returns the partial's size. */
async function append(layout: OciLayout, path: string, desc: Pick<Descriptor, 'digest' | 'size'>, have: { size: number; hash: Hash }, open: OpenAt): Promise<number> {
  let size = have.size;
  try {
    await pipeline(
      await open(have.size),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          have.hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path, { flags: have.size > 0 ? 'a' : 'w' }),
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw await storeFull(layout, desc, path);
    // Cut off midway, the bytes are worth keeping; all of them and still failing (a digest mismatch), they are not.
    if (size >= desc.size) await rm(path, { force: true });
    throw e;
  }
  return size;
}

async function storeFull(layout: OciLayout, desc: Pick<Descriptor, 'digest' | 'size'>, path: string): Promise<StoreFullError> {
  const kept = (await stat(path).catch(() => undefined))?.size ?? 0;
  const fs = await statfs(layout.dir).catch(() => undefined);
  const free = fs ? `, ${humanSize(fs.bavail * fs.bsize)} free` : '';
  return new StoreFullError(
    `no space left in the local store ${layout.dir}: blob ${desc.digest} needs ${humanSize(desc.size - kept)} more (${humanSize(desc.size)} in all${free}). ` +
      `The ${humanSize(kept)} downloaded so far are kept and the next pull resumes there; free some space (berth store prune, berth rmi) and pull again`,
  );
}

/** Downloads that did not finish: resumable by the next pull, removable with `berth store prune`. */
export async function listPartials(layout: OciLayout): Promise<Partial[]> {
  const dir = partialDir(layout);
  const out: Partial[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const digest = name.replace('-', ':');
    if (!isDigest(digest)) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) continue;
    out.push({ digest, size: s.size, path, inUse: await lockfile.check(path, { realpath: false, stale: LOCK_STALE_MS }) });
  }
  return out;
}

/** Removes the partials no running pull holds; returns what went. */
export async function prunePartials(layout: OciLayout): Promise<Partial[]> {
  const removed: Partial[] = [];
  for (const p of await listPartials(layout)) {
    if (p.inUse) continue;
    await rm(p.path, { force: true });
    removed.push(p);
  }
  return removed;
}
