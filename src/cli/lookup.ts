import { parseReference } from '../oci/reference.js';
import type { ImageSource } from '../transport/image.js';
import { openSource, parseLocation, type TransportContext } from '../transport/location.js';

/**
 * For inspect/digest/manifest: a transport prefix says where; a bare
 * reference is looked up in the local store first, then in its registry.
 */
export async function sourceAnywhere(ctx: TransportContext, input: string): Promise<ImageSource> {
  if (/^(docker:\/\/|local:|oci:|oci-archive:|docker-archive:)/.test(input)) return openSource(ctx, parseLocation(input, 'remote'));
  const ref = parseReference(input);
  const local = await ctx.store.find(ref);
  return openSource(ctx, local ? { kind: 'local', ref } : { kind: 'remote', ref });
}
