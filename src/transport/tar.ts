import { createReadStream, createWriteStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/**
 * Fails at once, naming the path, when `file` cannot be created: checked
 * before a copy starts, not after every blob has been fetched.
 */
export async function checkWritable(file: string): Promise<void> {
  const dir = dirname(file);
  const s = await stat(dir).catch(() => undefined);
  if (!s) throw new Error(`cannot write ${file}: directory ${dir} does not exist`);
  if (!s.isDirectory()) throw new Error(`cannot write ${file}: ${dir} is not a directory`);
  await access(dir, constants.W_OK).catch(() => {
    throw new Error(`cannot write ${file}: no permission to create files in ${dir}`);
  });
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new Error(`cannot write ${file}: it is a directory`);
}

/** Packs files (streamed, one at a time) into a tar at `out`. */
export async function packTar(out: string, files: { name: string; path: string }[]): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(out));
  // If the file fails (disk full), the entry being written fails too and is what the caller sees; `written` must not go unhandled meanwhile.
  written.catch(() => undefined);
  for (const f of files) {
    const { size } = await stat(f.path);
    const entry = pack.entry({ name: f.name, size, mode: 0o644, mtime: new Date(0) });
    await pipeline(createReadStream(f.path), entry);
  }
  pack.finalize();
  await written;
}

/** Extracts regular files and directories; refuses names that would land outside `dir`. */
export async function extractTar(file: string, dir: string): Promise<void> {
  const extract = tar.extract();
  const done = pipeline(createReadStream(file), extract);
  for await (const entry of extract) {
    const name = normalize(entry.header.name);
    if (name.startsWith('..') || name.startsWith(sep) || name.includes(`${sep}..${sep}`)) {
      throw new Error(`${file}: entry "${entry.header.name}" points outside the archive`);
    }
    const target = join(dir, name);
    if (entry.header.type === 'file') {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(entry, createWriteStream(target));
    } else {
      if (entry.header.type === 'directory') await mkdir(target, { recursive: true });
      entry.resume();
    }
  }
  await done;
}
