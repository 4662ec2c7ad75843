import type { Descriptor } from '../oci/descriptor.js';
import { isAttachmentTag } from '../oci/attachment-tags.js';
import { REF_NAME, type LayoutIndex } from './layout.js';

/**
 * On an index entry that lost its name to a newer image (a pull or tag moved
 * it): the reference it had. docker calls such an image dangling and shows it
 * as `<none>:<none>`; keeping the old name tells which repository it came
 * from, so `berth images` and `prune` can still say what it was.
 */
export const UNTAGGED_FROM = 'io.berth.untagged-from';

/** `host/repo:sha256-<hex>.sig` and the referrers fallback tag: what is attached to an image, not an image. */
export function isAttachmentName(name: string): boolean {
  const i = name.lastIndexOf(':');
  return i > name.lastIndexOf('/') && isAttachmentTag(name.slice(i + 1));
}

/**
 * Names `entry` `name` in the local store's index. The image that had the
 * name before stays as an untagged entry when nothing else names it, as
 * docker keeps a dangling image; an untagged entry of the same manifest is
 * folded into the new name.
 */
export function placeEntry(index: LayoutIndex, entry: Descriptor, name: string): void {
  const replaced = index.manifests.filter((m) => m.annotations?.[REF_NAME] === name);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== name && !(m.annotations?.[UNTAGGED_FROM] !== undefined && m.digest === entry.digest));
  for (const old of replaced) {
    if (old.digest === entry.digest || isAttachmentName(name) || index.manifests.some((m) => m.digest === old.digest)) continue;
    const { [REF_NAME]: _, ...rest } = old.annotations ?? {};
    index.manifests.push({ ...old, annotations: { ...rest, [UNTAGGED_FROM]: name } });
  }
  index.manifests.push({ ...entry, annotations: { ...entry.annotations, [REF_NAME]: name } });
}
