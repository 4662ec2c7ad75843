import { constants, type WriteStream } from 'node:fs';
import { mkdir, open, opendir, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isDigest, type Digest } from '../oci/digest.js';
import { FsyncGroup } from '../util/fsync-group.js';
import { FileBody } from './file-body.js';
import { BlobNotFoundError, BlobSizeMismatchError, type BlobStore, type ByteRange, type StoredBlob, type UploadEntry, type UploadId } from './blob-store.js';

export interface FilesystemStoreOptions {
  root: string;
  /** fsync data and directory on commit, so an acknowledged blob survives power loss too. */
  fsync: boolean;
}

/**
 * Layout: `blobs/<alg>/<first two hex>/<hex>` and `uploads/<uuid>`. Digests
 * and upload ids are validated types, so no path built here can leave `root`.
 */
export class FilesystemStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  /** Commits into the same directory at once share its fsync. */
  private readonly directorySyncs = new FsyncGroup();

  constructor(private readonly opts: FilesystemStoreOptions) {
    this.blobsDir = join(opts.root, 'blobs');
    this.uploadsDir = join(opts.root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
  }

  private blobPath(digest: Digest): string {
    const [alg, hex] = digest.split(':') as [string, string];
    return join(this.blobsDir, alg, hex.slice(0, 2), hex);
  }

  private uploadPath(id: UploadId): string {
    return join(this.uploadsDir, id);
  }

  async stat(digest: Digest): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.blobPath(digest));
      return { size: s.size };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async read(digest: Digest, range?: ByteRange, size?: number): Promise<Readable> {
    // Open first so a missing blob rejects here rather than as a stream error mid-response.
    const handle = await open(this.blobPath(digest), 'r').catch((e: unknown) => {
      throw isNotFound(e) ? new BlobNotFoundError(digest) : e;
    });
    if (size !== undefined) {
      const stored = (await handle.stat()).size;
      if (stored !== size) {
        await handle.close();
        throw new BlobSizeMismatchError(digest, stored, size);
      }
    }
    // With a known size the body ends there even if the file grew since: exactly the indexed bytes are served.
    const end = range ? range.end + 1 : size;
    return new FileBody(handle, range?.start ?? 0, end);
  }

  async redirectUrl(): Promise<string | null> {
    return null;
  }

  async put(digest: Digest, bytes: Buffer): Promise<void> {
    const path = this.blobPath(digest);
    // Unique per call: puts of the same manifest may run at once, and each renames its own file.
    const tmp = join(this.uploadsDir, `put-${digest.replace(':', '-')}-${process.pid}-${putSequence++}`);
    try {
      await writeFile(tmp, bytes, { flush: this.opts.fsync });
      await this.moveIntoPlace(tmp, path);
    } catch (e) {
      // A full disk must not stay full because of a write that failed.
      await removeFile(tmp);
      throw e;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await removeFile(this.blobPath(digest));
  }

  async *walk(): AsyncIterable<StoredBlob> {
    for (const alg of await listDir(this.blobsDir)) {
      for (const prefix of await listDir(join(this.blobsDir, alg))) {
        for (const hex of await listDir(join(this.blobsDir, alg, prefix))) {
          const digest = `${alg}:${hex}`;
          if (!isDigest(digest)) continue;
          const s = await stat(join(this.blobsDir, alg, prefix, hex)).catch(() => null);
          if (s) yield { digest, size: s.size, modifiedAt: s.mtime };
        }
      }
    }
  }

  /** Nothing to create: a session's file appears with its first write (an upload with no bytes has none). */
  async startUpload(): Promise<void> {}

  async stageUpload(id: UploadId, body: Readable, vet: (size: number) => Promise<void>): Promise<number> {
    const path = this.uploadPath(id);
    const handle = await open(path, 'wx');
    // The stream owns the handle: it stays open after the write for the sync, and the stream's end closes it.
    const out = handle.createWriteStream({ highWaterMark: WRITE_BUFFER, autoClose: false });
    try {
      const written = await countWritten(body, out);
      await vet(written);
      if (this.opts.fsync) await handle.sync();
      await closed(out);
      return written;
    } catch (e) {
      await closed(out);
      await removeFile(path);
      throw e;
    }
  }

  async writeUpload(id: UploadId, offset: number, body: Readable): Promise<number> {
    const handle = await open(this.uploadPath(id), CREATE_OR_WRITE);
    // The stream owns the handle and closes it when it finishes or fails.
    try {
      return await countWritten(body, handle.createWriteStream({ start: offset, highWaterMark: WRITE_BUFFER }));
    } catch (e) {
      await truncate(this.uploadPath(id), offset).catch(() => {});
      throw e;
    }
  }

  async readUpload(id: UploadId, size: number): Promise<Readable> {
    if (size === 0) return Readable.from([]);
    const handle = await open(this.uploadPath(id), 'r');
    return handle.createReadStream({ start: 0, end: size - 1, highWaterMark: 1 << 20 });
  }

  async sealUpload(id: UploadId, size: number): Promise<void> {
    const handle = await open(this.uploadPath(id), CREATE_OR_WRITE);
    try {
      // Bytes past `size` are leftovers of a write that failed part way.
      await handle.truncate(size);
      if (this.opts.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async commitUpload(id: UploadId, _size: number, digest: Digest): Promise<void> {
    await this.moveIntoPlace(this.uploadPath(id), this.blobPath(digest));
  }

  async abortUpload(id: UploadId): Promise<void> {
    await removeFile(this.uploadPath(id));
  }

  async *uploadEntries(): AsyncIterable<UploadEntry> {
    for (const name of await listDir(this.uploadsDir)) {
      if (!UPLOAD_ENTRY.test(name)) continue;
      const s = await stat(join(this.uploadsDir, name)).catch(() => null);
      if (s?.isFile()) yield { name, modifiedAt: s.mtime };
    }
  }

  async removeUploadEntry(name: string): Promise<void> {
    if (!UPLOAD_ENTRY.test(name)) throw new Error(`not an upload entry: ${name.slice(0, 100)}`);
    await removeFile(join(this.uploadsDir, name));
  }

  /** rename(2) is atomic: readers see either no blob or all of it, never a partial file. */
  private async moveIntoPlace(src: string, dest: string): Promise<void> {
    const dir = dest.slice(0, dest.lastIndexOf('/'));
    // The directory is there for all but the first blob of its prefix: made only when the rename says it is not.
    await rename(src, dest).catch(async (e: unknown) => {
      if (!isNotFound(e)) throw e;
      await mkdir(dir, { recursive: true });
      await rename(src, dest);
    });
    if (this.opts.fsync) await this.directorySyncs.sync(dir);
  }
}

/** Opens a session's file for positional writes, creating it on the first. */
const CREATE_OR_WRITE = constants.O_WRONLY | constants.O_CREAT;
const WRITE_BUFFER = 1 << 20;

/** Pipes `body` into `out`; resolves with the bytes written. */
async function countWritten(body: Readable, out: WriteStream): Promise<number> {
  await pipeline(body, out);
  return out.bytesWritten;
}

/** Ends a file stream, closing the file it owns. */
function closed(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (out.closed) return resolve();
    out.once('close', () => resolve());
    out.destroy();
  });
}

/** Numbers the temporary files of `put`; starting at the clock keeps a restarted process (same pid) off its predecessor's names. */
let putSequence = Date.now();

/** Session files (`<uuid>`) and the temporary files of `put` (`put-<alg>-<hex>-<pid>-<sequence>`): nothing else is ours to list or remove. */
const UPLOAD_ENTRY = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|put-(?:sha256|sha512)-[0-9a-f]+-\d+-\d+)$/;

/** unlink(2), and nothing if the file is not there: `rm` would lstat it first. */
async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

async function listDir(path: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const entry of await opendir(path)) names.push(entry.name);
    return names.sort();
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}
