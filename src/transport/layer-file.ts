import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Digest } from '../oci/digest.js';

/** A layer made from a tar file: the gzip'd blob on disk, its digest and size, and the tar's own digest (the config's diff_id). */
export interface LayerFile {
  file: string;
  digest: Digest;
  size: number;
  diffId: Digest;
  remove(): Promise<void>;
}

const hashing = (hash: ReturnType<typeof createHash>, count?: { n: number }) =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      if (count) count.n += chunk.length;
      done(null, chunk);
    },
  });

const sink = () => new Writable({ write: (_c, _e, done) => done() });
const hex = (h: ReturnType<typeof createHash>): Digest => `sha256:${h.digest('hex')}` as Digest;

/**
 * Streams the tar once: a plain tar is gzip'd into a temporary file while
 * both digests are computed; a gzip'd one is kept as it is and unpacked only
 * to hash. Memory stays flat whatever the size.
 */
export async function layerFromFile(input: string): Promise<LayerFile> {
  const gzipped = await isGzip(input);
  await checkTar(input, gzipped);
  const dir = await mkdtemp(join(tmpdir(), 'berth-layer-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const plain = createHash('sha256');
    const packed = createHash('sha256');
    const size = { n: 0 };
    if (gzipped) {
      const tee = new PassThrough();
      const unpacked = pipeline(tee, createGunzip(), hashing(plain), sink());
      await pipeline(createReadStream(input), hashing(packed, size), tee);
      await unpacked;
      return { file: input, digest: hex(packed), size: size.n, diffId: hex(plain), remove };
    }
    const file = join(dir, 'layer.tar.gz');
    await pipeline(createReadStream(input), hashing(plain), createGzip(), hashing(packed, size), createWriteStream(file));
    return { file, digest: hex(packed), size: size.n, diffId: hex(plain), remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** A file that is not a tar would make an image no runtime can unpack: refused before anything is written. */
async function checkTar(file: string, gzipped: boolean): Promise<void> {
  const extract = tar.extract();
  extract.on('entry', (_header, stream, next) => {
    stream.on('end', next);
    stream.resume();
  });
  try {
    if (gzipped) await pipeline(createReadStream(file), createGunzip(), extract);
    else await pipeline(createReadStream(file), extract);
  } catch (e) {
    throw new LayerFileError(`${file} is not a tar archive${gzipped ? ' (gzip)' : ''}: ${(e as Error).message}`);
  }
}

export class LayerFileError extends Error {
  override readonly name = 'LayerFileError';
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file);
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
