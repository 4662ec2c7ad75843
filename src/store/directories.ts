import { access, constants, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** A directory Berth cannot use, named with what to do about it. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
}

/**
 * Makes sure `path` is a directory this process can write, creating missing
 * levels one at a time (Node's recursive mkdir never returns on filesystems
 * such as /proc), and proves it by writing a file: a read-only mount passes
 * a permission check and still refuses every write.
 */
export async function ensureWritableDirectory(path: string, what: string): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let existing = target;
  while (!(await stat(existing).catch(() => undefined))) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (!(await stat(existing)).isDirectory()) throw new DirectoryError(`${what}: ${existing} is not a directory`);
  for (const dir of missing) {
    await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new DirectoryError(`${what}: cannot create ${dir} (${reason(e)}); choose a directory on a writable filesystem`);
    });
  }
  const probe = join(target, `.berth-write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
  } catch (e) {
    throw new DirectoryError(`${what}: cannot write in ${target} (${reason(e as NodeJS.ErrnoException)}); fix its permissions or choose another directory`);
  } finally {
    await rm(probe, { force: true });
  }
}

/** Throws unless the file, when it exists, is writable by this process. */
export async function ensureWritableIfPresent(path: string, what: string): Promise<void> {
  try {
    await access(path, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new DirectoryError(`${what}: ${path} is not writable by this user (uid ${process.getuid?.() ?? '?'}; ${reason(e as NodeJS.ErrnoException)}); fix its owner or mode`);
  }
}

function reason(e: NodeJS.ErrnoException): string {
  const words: Record<string, string> = { EROFS: 'read-only filesystem', EACCES: 'permission denied', EPERM: 'operation not permitted', ENOSPC: 'no space left', ENOENT: 'no such place' };
  return e.code ? `${words[e.code] ?? e.code}` : e.message;
}
