import { hexOf, type Digest } from '../oci/digest.js';
import { parseReference, ReferenceError, type Reference } from '../oci/reference.js';
import { imageFacts } from './image-facts.js';
import { LayoutError } from './layout.js';
import type { LocalStore, StoredImage } from './store.js';

/** An image ID prefix matches more than one image: the candidates are in the message. */
export class AmbiguousImageError extends LayoutError {
  constructor(
    readonly input: string,
    readonly candidates: { id: Digest; names: string[] }[],
  ) {
    super(`"${input}" matches ${candidates.length} images: ${candidates.map((c) => `${c.id} (${c.names.join(', ')})`).join('; ')}; give more of the ID`);
  }
}

/** The result of naming an image as docker users do: its ID and every name it has in the store. */
export interface ResolvedImage {
  id: Digest;
  /** The one entry a reference named, or every entry of the ID (all its names and untagged copies). */
  images: StoredImage[];
  byId: boolean;
}

const ID_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/** Input that can only be meant as an image ID: `sha256:...`, or twelve hex digits or more (what `berth images` prints). */
export const isImageId = (input: string): boolean => input.startsWith('sha256:') || /^[a-f0-9]{12,64}$/.test(input);

/**
 * `alpine`, `host/app@sha256:...`, an image ID or a prefix of one
 * (`0663076497a1`), or `sha256:<id>`: a reference that names an image
 * wins, as in docker, so a repository that happens to be hex still works.
 * Undefined when nothing matches; an ambiguous prefix throws.
 */
export async function findLocal(store: LocalStore, input: string): Promise<ResolvedImage | undefined> {
  const id = ID_RE.exec(input);
  if (!input.startsWith('sha256:')) {
    let ref;
    try {
      ref = parseReference(input);
    } catch (e) {
      if (!(e instanceof ReferenceError) || !id) throw e;
    }
    const image = ref && (await store.find(ref));
    if (image) return { id: (await imageFacts(store, image)).id, images: [image], byId: false };
  }
  if (!id) return undefined;
  const byId = new Map<Digest, StoredImage[]>();
  for (const image of await store.everything()) {
    const facts = await imageFacts(store, image).catch(() => undefined);
    if (!facts || !hexOf(facts.id).startsWith(id[1]!)) continue;
    byId.set(facts.id, [...(byId.get(facts.id) ?? []), image]);
  }
  if (byId.size > 1) throw new AmbiguousImageError(input, [...byId].map(([d, images]) => ({ id: d, names: images.map(label) })));
  const [found] = [...byId];
  return found && { id: found[0], images: found[1], byId: true };
}

/** As findLocal, and what is not there is an error saying so. */
export async function resolveLocal(store: LocalStore, input: string): Promise<ResolvedImage> {
  const found = await findLocal(store, input);
  if (!found) throw new LayoutError(`no image ${input} in the local store (${store.home}): no reference or image ID matches; pull it or tag one with \`berth tag\``);
  return found;
}

/** The reference that opens this image of the store: its name, or its repository and digest when untagged. */
export const referenceOf = (i: StoredImage): Reference =>
  i.untagged ? { registry: i.ref.registry, repository: i.ref.repository, digest: i.descriptor.digest } : i.ref;

/** An image's name as messages show it: untagged ones say what they were. */
export const label = (i: StoredImage): string => (i.untagged ? `<none> (was ${i.name})` : i.name);
