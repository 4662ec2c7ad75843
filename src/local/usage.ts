import type { Digest } from '../oci/digest.js';
import { listPartials } from './partials.js';
import type { LocalStore, StoredImage } from './store.js';

export interface ImageUsage {
  image: StoredImage;
  /** Bytes of every blob the image needs (what it would take alone). */
  size: number;
  /** Bytes of its blobs that at least one other image also needs. */
  shared: number;
  /** Bytes only this image needs: what `berth rmi` would free. */
  unique: number;
}

export interface Usage {
  images: ImageUsage[];
  /** The sum of the SIZE column: counts a shared blob once per image. */
  sumOfSizes: number;
  /** Bytes on disk: each blob once, however many images use it, plus partial downloads. */
  diskBytes: number;
  blobs: number;
  /** Blobs on disk that no image needs (left by an interrupted pull), and their bytes. */
  unreferenced: { count: number; bytes: number };
  /** Downloads an interrupted pull left in `blobs/.partial`: the next pull resumes them, `berth store prune` removes them. */
  partial: { count: number; bytes: number };
}

/** docker system df -v accounting over the content-addressed store (of its named images unless told which). */
export async function computeUsage(store: LocalStore, of?: StoredImage[]): Promise<Usage> {
  const images = of ?? (await store.images());
  const sets = await Promise.all(images.map((i) => store.blobsOf(i.descriptor)));
  const users = new Map<Digest, number>();
  for (const set of sets) for (const d of set.keys()) users.set(d, (users.get(d) ?? 0) + 1);
  const disk = await store.diskBlobs();
  const rows = images.map((image, i): ImageUsage => {
    let size = 0;
    let shared = 0;
    for (const [d, n] of sets[i]!) {
      if (!disk.has(d)) continue;
      size += n;
      if (users.get(d)! > 1) shared += n;
    }
    return { image, size, shared, unique: size - shared };
  });
  // What is attached to images (signatures, referrers) and untagged images are no rows here, but their blobs are referenced.
  const referenced = new Set(users.keys());
  for (const entry of (await store.layout.readIndex()).manifests) for (const d of (await store.blobsOf(entry)).keys()) referenced.add(d);
  let diskBytes = 0;
  const unreferenced = { count: 0, bytes: 0 };
  for (const [d, n] of disk) {
    diskBytes += n;
    if (!referenced.has(d)) {
      unreferenced.count++;
      unreferenced.bytes += n;
    }
  }
  const partials = await listPartials(store.layout);
  const partial = { count: partials.length, bytes: partials.reduce((a, p) => a + p.size, 0) };
  diskBytes += partial.bytes;
  return { images: rows, sumOfSizes: rows.reduce((a, r) => a + r.size, 0), diskBytes, blobs: disk.size, unreferenced, partial };
}
