import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import type { LocalStore, StoredImage } from './store.js';

/** One step of how an image was built, as the config's `history` records it. */
export interface HistoryStep {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageFacts {
  /** What docker shows as IMAGE ID: the config digest; for an index, the index digest (as docker's containerd store does). */
  id: Digest;
  created?: string;
  history: HistoryStep[];
  layers: Descriptor[];
}

/** Reads an image's manifest and config from the store; an index answers with its first child that is present. */
export async function imageFacts(store: LocalStore, image: StoredImage): Promise<ImageFacts> {
  const root = parseManifest(await store.layout.readSmallBlob(image.descriptor.digest), image.descriptor.mediaType);
  let facts = root;
  for (const child of root.manifests) {
    if (!(await store.layout.hasBlob(child))) continue;
    facts = parseManifest(await store.layout.readSmallBlob(child.digest), child.mediaType);
    break;
  }
  const config = facts.config ? readConfig(await store.layout.readSmallBlob(facts.config.digest)) : {};
  const id = root.config?.digest ?? image.descriptor.digest;
  return { id, ...(config.created ? { created: config.created } : {}), history: Array.isArray(config.history) ? config.history : [], layers: facts.layers };
}

function readConfig(bytes: Buffer): { created?: string; history?: HistoryStep[] } {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof json === 'object' && json !== null ? (json as { created?: string; history?: HistoryStep[] }) : {};
  } catch {
    return {};
  }
}
