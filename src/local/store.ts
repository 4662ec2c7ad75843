import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { formatReference, parseReference, type Reference } from '../oci/reference.js';
import { digestTag } from '../oci/attachment-tags.js';
import { isAttachmentName, placeEntry, UNTAGGED_FROM } from './entries.js';
import { OciLayout, REF_NAME } from './layout.js';
import { listPartials, prunePartials, type Partial } from './partials.js';

const UNREFERENCED_GRACE_MS = 3600_000;

/** The registry digest a reference resolved to when pulled (an index digest for multi-arch images). */
export const REPO_DIGEST = 'io.berth.repo-digest';

export interface StoredImage {
  /** Normalised, e.g. `docker.io/library/alpine:latest`; for an untagged image the name it had. */
  name: string;
  ref: Reference;
  descriptor: Descriptor;
  repoDigest: Digest;
  /** Displaced by a newer image of the same name and named by nothing else: docker's dangling image. */
  untagged?: true;
}

export interface Removal {
  /** The names removed; an untagged image's former name. */
  removed: StoredImage[];
  /** Signature tags and referrers fallback tags that went with them. */
  attachments: string[];
  deleted: Digest[];
  freed: number;
}

export const defaultHome = (): string => process.env.BERTH_HOME ?? join(homedir(), '.local', 'share', 'berth');

/**
 * The local image store: one OCI image layout whose index names images by
 * their full normalised reference. Blobs are shared by every image that uses
 * them and removed only when no remaining image needs them.
 */
export class LocalStore {
  readonly layout: OciLayout;

  constructor(readonly home: string = defaultHome()) {
    this.layout = new OciLayout(home);
  }

  /** The named images; not what is attached to them (signatures, referrers), not untagged ones. */
  async images(): Promise<StoredImage[]> {
    return (await this.everything()).filter((i) => !i.untagged);
  }

  /** Named and untagged images alike. */
  async everything(): Promise<StoredImage[]> {
    return imagesIn((await this.layout.readIndex()).manifests);
  }

  /** By exact name; a digest reference also matches an image pulled by tag that resolved to it, or an untagged one. */
  async find(ref: Reference): Promise<StoredImage | undefined> {
    const images = await this.everything();
    const name = formatReference(ref);
    const exact = images.find((i) => i.name === name && !i.untagged);
    if (exact || !ref.digest) return exact;
    return images.find(
      (i) => i.ref.registry === ref.registry && i.ref.repository === ref.repository && (i.repoDigest === ref.digest || i.descriptor.digest === ref.digest),
    );
  }

  /** Every blob an image needs (manifests included), walking index children that are present. */
  async blobsOf(root: Descriptor): Promise<Map<Digest, number>> {
    const out = new Map<Digest, number>();
    const walk = async (d: Descriptor): Promise<void> => {
      if (out.has(d.digest)) return;
      out.set(d.digest, d.size);
      if (!(await this.layout.hasBlob(d))) return;
      let facts;
      try {
        facts = parseManifest(await this.layout.readSmallBlob(d.digest), d.mediaType);
      } catch {
        return;
      }
      for (const b of facts.blobs) out.set(b.digest, b.size);
      for (const m of facts.manifests) if (await this.layout.hasBlob(m)) await walk(m);
    };
    await walk(root);
    return out;
  }

  async tag(image: StoredImage, target: Reference): Promise<void> {
    const { [UNTAGGED_FROM]: _, ...annotations } = image.descriptor.annotations ?? {};
    await this.layout.updateIndex((index) => placeEntry(index, { ...image.descriptor, annotations }, formatReference(target)));
  }

  remove(...images: StoredImage[]): Promise<Removal> {
    return this.removeWhere((all) => all.filter((i) => images.some((image) => sameEntry(i, image))));
  }

  /**
   * Removes the images `choose` picks from all of them, what is attached to
   * them once no name in their repository holds their digest any more, then
   * the blobs nothing left needs. All under the index lock, so a concurrent
   * pull cannot commit in between.
   */
  async removeWhere(choose: (images: StoredImage[]) => StoredImage[] | Promise<StoredImage[]>): Promise<Removal> {
    return this.layout.updateIndex(async (index) => {
      const removed = await choose(imagesIn(index.manifests));
      const before = index.manifests;
      index.manifests = index.manifests.filter((m) => !removed.some((r) => r.descriptor === m));
      const attachments = orphanedAttachments(index.manifests, removed);
      index.manifests = index.manifests.filter((m) => !attachments.includes(m.annotations?.[REF_NAME] ?? ''));
      const gone = new Map<Digest, number>();
      for (const m of before) if (!index.manifests.includes(m)) for (const [d, n] of await this.blobsOf(m)) gone.set(d, n);
      for (const other of index.manifests) for (const d of (await this.blobsOf(other)).keys()) gone.delete(d);
      let freed = 0;
      for (const [digest, size] of gone) {
        if (!(await this.layout.hasBlob({ digest, size }))) continue;
        await rm(this.layout.blobPath(digest), { force: true });
        freed += size;
      }
      return { removed, attachments, deleted: [...gone.keys()], freed };
    });
  }

  /** Every blob file on disk with its size (what the store really occupies). */
  async diskBlobs(): Promise<Map<Digest, number>> {
    const out = new Map<Digest, number>();
    for (const alg of ['sha256', 'sha512']) {
      const dir = join(this.home, 'blobs', alg);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names) out.set(`${alg}:${n}` as Digest, (await stat(join(dir, n))).size);
    }
    return out;
  }

  /**
   * Removes partial downloads no running pull holds, and blobs no image
   * needs that are older than an hour: a younger one may be a pull's, written
   * before its index entry. Under the index lock, as `remove` is.
   */
  async prune(): Promise<{ partial: Partial[]; unreferenced: { digest: Digest; size: number }[] }> {
    return this.layout.updateIndex(async (index) => {
      const partial = await prunePartials(this.layout);
      const needed = new Set<Digest>();
      for (const m of index.manifests) for (const d of (await this.blobsOf(m)).keys()) needed.add(d);
      const unreferenced: { digest: Digest; size: number }[] = [];
      for (const [digest, size] of await this.diskBlobs()) {
        if (needed.has(digest)) continue;
        const path = this.layout.blobPath(digest);
        if ((await stat(path)).mtimeMs > Date.now() - UNREFERENCED_GRACE_MS) continue;
        await rm(path, { force: true });
        unreferenced.push({ digest, size });
      }
      return { partial, unreferenced };
    });
  }

  /** Rehashes every blob; returns the ones whose bytes no longer match their name, missing ones, and partial downloads. */
  async verify(onBlob?: (digest: Digest, ok: boolean) => void): Promise<{ checked: number; corrupt: Digest[]; missing: { image: string; digest: Digest }[]; partial: Partial[] }> {
    const corrupt: Digest[] = [];
    const blobs = await this.diskBlobs();
    for (const digest of blobs.keys()) {
      const alg = digest.slice(0, digest.indexOf(':'));
      const hash = createHash(alg);
      for await (const chunk of createReadStream(this.layout.blobPath(digest))) hash.update(chunk as Buffer);
      const ok = `${alg}:${hash.digest('hex')}` === digest;
      if (!ok) corrupt.push(digest);
      onBlob?.(digest, ok);
    }
    const missing: { image: string; digest: Digest }[] = [];
    for (const image of await this.everything()) {
      for (const digest of (await this.blobsOf(image.descriptor)).keys()) if (!blobs.has(digest)) missing.push({ image: image.name, digest });
    }
    return { checked: blobs.size, corrupt, missing, partial: await listPartials(this.layout) };
  }
}

/** The images among index entries: named ones (attachments aside) and untagged ones, each keeping its own entry object. */
function imagesIn(entries: Descriptor[]): StoredImage[] {
  const out: StoredImage[] = [];
  for (const d of entries) {
    const name = d.annotations?.[REF_NAME] ?? d.annotations?.[UNTAGGED_FROM];
    const ref = name ? tryParse(name) : undefined;
    // An entry another tool wrote with a ref.name that is no reference is not an image berth can name.
    if (!name || !ref || isAttachmentName(name)) continue;
    const image: StoredImage = { name, ref, descriptor: d, repoDigest: (d.annotations?.[REPO_DIGEST] ?? d.digest) as Digest };
    out.push(d.annotations?.[REF_NAME] === undefined ? { ...image, untagged: true } : image);
  }
  return out;
}

const sameEntry = (a: StoredImage, b: StoredImage): boolean => a.name === b.name && a.descriptor.digest === b.descriptor.digest && a.untagged === b.untagged;

/** Names of attachment entries whose subject was removed and is no longer an image of that repository. */
function orphanedAttachments(remaining: Descriptor[], removed: StoredImage[]): string[] {
  const left = imagesIn(remaining);
  const out: string[] = [];
  for (const r of removed) {
    if (left.some((i) => i.ref.registry === r.ref.registry && i.ref.repository === r.ref.repository && i.descriptor.digest === r.descriptor.digest)) continue;
    const stem = `${r.ref.registry}/${r.ref.repository}:${digestTag(r.descriptor.digest)}`;
    for (const m of remaining) {
      const name = m.annotations?.[REF_NAME];
      if (name && (name === stem || name.startsWith(`${stem}.`)) && isAttachmentName(name) && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

function tryParse(name: string): Reference | undefined {
  try {
    return parseReference(name, { defaultTag: false });
  } catch {
    return undefined;
  }
}
