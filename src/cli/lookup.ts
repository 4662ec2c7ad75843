import type { Command } from 'commander';
import { parseReference } from '../oci/reference.js';
import type { ImageSource, Manifest } from '../transport/image.js';
import { openSource, parseLocation, type TransportContext } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { imageFor } from '../transport/select.js';

/**
 * For inspect/digest/manifest/config: a transport prefix says where; a bare
 * reference is looked up in the local store first, then in its registry.
 */
export async function sourceAnywhere(ctx: TransportContext, input: string): Promise<ImageSource> {
  if (/^(docker:\/\/|local:|oci:|oci-archive:|docker-archive:)/.test(input)) return openSource(ctx, parseLocation(input, 'remote'));
  const ref = parseReference(input);
  const local = await ctx.store.find(ref);
  return openSource(ctx, local ? { kind: 'local', ref } : { kind: 'remote', ref });
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
