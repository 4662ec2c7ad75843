import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';
import { algorithmOf, hexOf, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MediaType } from '../oci/mediatypes.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export class LayoutError extends Error {
  override readonly name = 'LayoutError';
}

/**
 * An OCI image layout directory (image-spec layout.md). Blobs become visible
 * under their digest only after they verify (write to a temp file, rename);
 * index.json changes happen under a lock file and land by atomic rename, so
 * concurrent processes never see or write a torn index.
 */
export class OciLayout {
  constructor(readonly dir: string) {}

  blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', algorithmOf(digest), hexOf(digest));
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeIfMissing(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeIfMissing(join(this.dir, 'index.json'), JSON.stringify(emptyIndex()));
  }

  async exists(): Promise<boolean> {
    return stat(join(this.dir, 'oci-layout')).then(
      () => true,
      () => false,
    );
  }

  async hasBlob(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean> {
    try {
      return (await stat(this.blobPath(desc.digest))).size === desc.size;
    } catch {
      return false;
    }
  }

  readBlob(digest: Digest, start = 0): Readable {
    return createReadStream(this.blobPath(digest), { start });
  }

  async readSmallBlob(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch {
      throw new LayoutError(`blob ${digest} is missing from ${this.dir}`);
    }
  }

  /** Streams into a temp file while hashing; renames into place only if size and digest match. */
  async writeBlob(desc: Pick<Descriptor, 'digest' | 'size'>, data: Readable): Promise<void> {
    const tmpDir = join(this.dir, 'blobs', '.tmp');
    await mkdir(tmpDir, { recursive: true });
    await mkdir(join(this.dir, 'blobs', algorithmOf(desc.digest)), { recursive: true });
    const tmp = join(tmpDir, randomBytes(8).toString('hex'));
    const hash = createHash(algorithmOf(desc.digest));
    let size = 0;
    try {
      await pipeline(
        data,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      const actual = `${algorithmOf(desc.digest)}:${hash.digest('hex')}`;
      if (actual !== desc.digest || size !== desc.size) {
        throw new LayoutError(`content for ${desc.digest} hashed to ${actual} (${size} bytes, expected ${desc.size}); not stored`);
      }
      await rename(tmp, this.blobPath(desc.digest));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async writeSmallBlob(bytes: Buffer, digest: Digest): Promise<void> {
    await this.writeBlob({ digest, size: bytes.length }, Readable.from([bytes]));
  }

  async readIndex(): Promise<LayoutIndex> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'index.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw e;
    }
    const index = JSON.parse(text) as LayoutIndex;
    if (!Array.isArray(index.manifests)) throw new LayoutError(`${this.dir}/index.json has no manifests array`);
    return index;
  }

  /** Read-modify-write of index.json under an exclusive lock shared by all processes. */
  async updateIndex<T>(change: (index: LayoutIndex) => Promise<T> | T): Promise<T> {
    await this.init();
    const release = await lockfile.lock(join(this.dir, 'index.json'), {
      realpath: false,
      stale: 30_000,
      retries: { retries: 200, minTimeout: 20, maxTimeout: 250 },
    });
    try {
      const index = await this.readIndex();
      const result = await change(index);
      const tmp = join(this.dir, `index.json.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(tmp, JSON.stringify(index));
      await rename(tmp, join(this.dir, 'index.json'));
      return result;
    } finally {
      await release();
    }
  }
}

const emptyIndex = (): LayoutIndex => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });

async function writeIfMissing(path: string, content: string): Promise<void> {
  await writeFile(path, content, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}
