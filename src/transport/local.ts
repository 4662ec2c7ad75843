import type { Descriptor } from '../oci/descriptor.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { LayoutError } from '../local/layout.js';
import { REPO_DIGEST, type LocalStore, type StoredImage } from '../local/store.js';
import { placeEntry } from '../local/entries.js';
import { LayoutSink, LayoutSource } from './layout.js';
import { LayoutAttachments } from './layout-attachments.js';
import type { Tag } from '../oci/name.js';

/** An image of the local store; knows which repositories of a registry already got its blobs. */
export class LocalSource extends LayoutSource {
  constructor(
    private readonly store: LocalStore,
    readonly image: StoredImage,
  ) {
    super(store.layout, image.descriptor, image.name);
  }

  static async find(store: LocalStore, ref: Reference): Promise<LocalSource> {
    const image = await store.find(ref);
    if (!image) throw new LayoutError(`no image ${formatReference(ref)} in the local store (${store.home}); pull it or tag one with \`berth tag\``);
    return new LocalSource(store, image);
  }

  mountCandidates(registry: string, desc: Descriptor): Promise<string[]> {
    return reposHolding(this.store, registry, desc, this.image.ref.repository);
  }

  override attachments(): LayoutAttachments {
    return new LayoutAttachments(this.layout, localName(this.image.ref), this.description);
  }
}

/** Repositories of `registry` the local store has images of that hold this blob: it can be mounted from them. */
export async function reposHolding(store: LocalStore, registry: string, desc: Descriptor, except?: string): Promise<string[]> {
  const repos = new Set<string>();
  for (const other of await store.images()) {
    if (other.ref.registry !== registry || other.ref.repository === except) continue;
    if ((await store.blobsOf(other.descriptor)).has(desc.digest)) repos.add(other.ref.repository);
  }
  return [...repos];
}

/** The local store names everything by full reference, attachment tags too: `host/repo:sha256-<hex>.sig`. */
const localName = (ref: Reference) => (tag: string) => formatReference({ registry: ref.registry, repository: ref.repository, tag: tag as Tag });

export function localSink(store: LocalStore, ref: Reference): LayoutSink {
  // A tag plus digest is stored by digest: the digest is what was pulled.
  const name = formatReference(ref.digest ? { registry: ref.registry, repository: ref.repository, digest: ref.digest } : ref);
  return new LayoutSink(store.layout, { refName: name, sourceDigestAnnotation: REPO_DIGEST, attachmentName: localName(ref), place: placeEntry }, `local store (${store.home})`);
}
