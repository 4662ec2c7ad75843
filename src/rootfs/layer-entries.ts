import type tar from 'tar-stream';
import tarStream from 'tar-stream';
import type { Descriptor } from '../oci/descriptor.js';
import { decompressedTar } from '../scan/decompress.js';
import { normalise, type LayerInput } from '../scan/walk.js';
import { EscapeError } from './scoped-path.js';

export const OPAQUE = '.wh..wh..opq';
export const WHITEOUT = '.wh.';

/** A tar entry's header and body (a streamx stream): the body must be consumed or resumed before the next entry. */
export type TarEntry = AsyncIterable<Buffer> & { header: tar.Header; resume(): unknown };

/**
 * The entries of one layer, decompressed and verified as they stream, with
 * their normalised path. A name that climbs out of the root ends the walk
 * with an error naming the layer: nothing after it is trusted.
 */
export async function* layerEntries(input: LayerInput, desc: Descriptor): AsyncGenerator<{ path: string; entry: TarEntry }> {
  const extract = tarStream.extract();
  const stream = decompressedTar(await input.open(desc), desc);
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract);
  try {
    for await (const entry of extract as AsyncIterable<TarEntry>) {
      const path = normalise(entry.header.name);
      if (path === undefined) throw new EscapeError(`layer ${desc.digest}: entry "${entry.header.name.slice(0, 200)}" climbs out of the root; stopped there`);
      yield { path, entry };
      entry.resume();
    }
  } finally {
    stream.destroy();
  }
}
