import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { algorithmOf, hexOf } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export class LayerReadError extends Error {
  override readonly name = 'LayerReadError';
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Told by the bytes, not the media type: registries and tools mislabel layers. */
export function compressionOf(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/**
 * The layer's tar bytes, decompressed as they stream. The compressed bytes
 * are hashed on the way: if they do not match the descriptor the stream
 * fails at its end, so a scan result is always about the digest it names.
 * zstd is decoded by fzstd (pure JavaScript), since Node 20's zlib has no
 * zstd; it is several times slower than gzip.
 */
export function decompressedTar(blob: AsyncIterable<Buffer>, desc: Descriptor): Readable {
  return Readable.from(decompress(verified(blob, desc)), { objectMode: false, highWaterMark: 1 << 16 });
}

async function* verified(blob: AsyncIterable<Buffer>, desc: Descriptor): AsyncGenerator<Buffer> {
  const hash = createHash(algorithmOf(desc.digest));
  let size = 0;
  for await (const chunk of blob) {
    hash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  if (size !== desc.size || hash.digest('hex') !== hexOf(desc.digest)) {
    throw new LayerReadError(`its bytes do not match ${desc.digest} (${size} bytes read, ${desc.size} expected)`);
  }
}

async function* decompress(compressed: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const first = await compressed.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    yield* compressed;
  })();
  const kind = compressionOf(first.value);
  if (kind === 'none') return yield* rest;
  if (kind === 'gzip') return yield* gunzip(rest);
  yield* unzstd(rest);
}

async function* gunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip();
  // pipeline passes an error of the input (a digest mismatch) on to z, so the loop below sees it.
  pipeline(Readable.from(input), z, () => {});
  try {
    for await (const out of z) yield out as Buffer;
  } catch (e) {
    if (e instanceof LayerReadError) throw e;
    throw new LayerReadError(`gzip stream is corrupt or truncated: ${(e as Error).message}`);
  }
}

async function* unzstd(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let ended = false;
  const d = new ZstdDecompress((data, final) => {
    pending.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (final) ended = true;
  });
  try {
    for await (const chunk of input) {
      d.push(chunk);
      const out = pending;
      pending = [];
      yield* out;
    }
    d.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof LayerReadError) throw e;
    throw new LayerReadError(`zstd stream is corrupt: ${(e as Error).message}`);
  }
  yield* pending;
  if (!ended) throw new LayerReadError('zstd stream is truncated');
}
