import type { Command } from 'commander';
import { findLocal, isImageId, referenceOf, resolveLocal } from '../local/resolve.js';
import { parseReference } from '../oci/reference.js';
import { imageInputOf, type ImageInput } from '../scan/image-input.js';
import type { ImageSource, Manifest } from '../transport/image.js';
import { openSource, parseLocation, type Location, type TransportContext } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { imageFor } from '../transport/select.js';
import { type ClientFlags } from './common.js';
import { context } from './context.js';
import { UsageError } from './exit.js';

const TRANSPORT_RE = /^(docker:\/\/|local:|oci:|oci-archive:|docker-archive:)/;

/**
 * For inspect/digest/manifest/config: a transport prefix says where; a bare
 * reference or image ID is looked up in the local store first, then a
 * reference in its registry.
 */
export async function sourceAnywhere(ctx: TransportContext, input: string): Promise<ImageSource> {
  if (TRANSPORT_RE.test(input)) return openSource(ctx, await resolveLocation(ctx, input));
  const local = await findLocal(ctx.store, input);
  if (local) return openSource(ctx, { kind: 'local', ref: referenceOf(local.images[0]!) });
  if (isImageId(input)) await resolveLocal(ctx.store, input);
  return openSource(ctx, { kind: 'remote', ref: parseReference(input) });
}

/** parseLocation, where `local:` also takes an image ID or a prefix of one, as docker does. */
export async function resolveLocation(ctx: TransportContext, input: string): Promise<Location> {
  if (!input.startsWith('local:')) return parseLocation(input, 'remote');
  return { kind: 'local', ref: referenceOf((await resolveLocal(ctx.store, input.slice('local:'.length))).images[0]!) };
}

/** The one image `push` sends: by name, or by an ID that has exactly one name (the destination). */
export async function namedLocal(ctx: TransportContext, input: string) {
  const { id, images } = await resolveLocal(ctx.store, input);
  const named = images.filter((i) => !i.untagged);
  if (named.length === 1) return named[0]!.ref;
  if (named.length === 0) throw new UsageError(`image ${id} has no name to push to; give it one with \`berth tag ${input} REGISTRY/REPO:TAG\``);
  throw new UsageError(`image ${id} has ${named.length} names (${named.map((i) => i.name).join(', ')}); push one of them by name`);
}

/** unpack, export: the image (of an index, `--platform`'s or this machine's) an argument names, closed afterwards. */
export async function withImage(flags: ClientFlags & { platform?: string }, input: string, body: (src: ImageSource, image: ImageInput) => Promise<void>): Promise<void> {
  const ctx = context(flags);
  const src = await sourceAnywhere(ctx, input);
  try {
    await body(src, await imageInputOf(src, ...(flags.platform ? [parsePlatform(flags.platform)] : [])));
  } finally {
    await src.close();
    await ctx.http.close();
  }
}

/** `--platform` on the commands that read one image: an index's child for it, or the image, which must be of it. */
export const platformOption = (cmd: Command, what: string): Command =>
  cmd.option('--platform <os/arch[/variant]>', `of an index, the image for this platform (${what})`);

/** The manifest `--platform` names: without the flag, the index itself when `index` is 'keep', else this machine's image. */
export async function selected(src: ImageSource, platform: string | undefined, index: 'keep' | 'choose'): Promise<Manifest> {
  const root = await src.root();
  if (platform === undefined && index === 'keep') return root;
  return imageFor(src, root, platform === undefined ? undefined : parsePlatform(platform));
}
