import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

export interface ZipEntry {
  name: string;
  size: number;
  /** Reads the entry, refusing one that inflates past `max` bytes (yauzl checks the declared size too). */
  read(max: number): Promise<Buffer>;
}

export class ZipError extends Error {
  override readonly name = 'ZipError';
}

/**
 * The entries of a zip file, one at a time (yauzl, lazily): memory holds
 * one entry, however large the archive. Names are returned raw; the caller
 * decides what a safe one is.
 */
export async function* zipEntries(file: string): AsyncGenerator<ZipEntry> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: true }, (err, z) => (err ? reject(new ZipError(`${file} is not a readable zip: ${err.message}`)) : resolve(z))),
  );
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => done(() => resolve(e));
        const onEnd = () => done(() => resolve(undefined));
        const onError = (e: Error) => done(() => reject(new ZipError(`${file}: ${e.message}`)));
        const done = (f: () => void) => {
          zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
          f();
        };
        zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      yield {
        name: (entry.fileName as unknown as Buffer).toString('utf8'),
        size: entry.uncompressedSize,
        read: (max) => readEntry(zip, entry, max),
      };
    }
  } finally {
    zip.close();
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, max: number): Promise<Buffer> {
  if (entry.uncompressedSize > max) throw new ZipError(`entry is ${entry.uncompressedSize} bytes, over the ${max} allowed`);
  const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(new ZipError(err.message)) : resolve(s))));
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.destroy();
      throw new ZipError(`entry inflates past the ${max} bytes allowed`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Whether an entry name stays inside the archive: no absolute path, drive, backslash or `..` component. */
export function isSafeEntryName(name: string): boolean {
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.includes('\0')) return false;
  return !name.split('/').includes('..');
}
