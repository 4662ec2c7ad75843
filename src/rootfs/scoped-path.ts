import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

const MAX_LINKS = 255;

export class EscapeError extends Error {
  override readonly name = 'EscapeError';
}

/**
 * Where `path` (relative to the image root) lands under `root`, following
 * symlinks already unpacked there as the container would see them, with
 * `root` as `/` (what umoci's securejoin does). An absolute link or `..`
 * stops at the root, so no entry of any layer can reach outside it. The last
 * component is not followed: an entry replaces a symlink, never writes
 * through it.
 */
export async function scopedPath(root: string, path: string): Promise<string> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const last = parts.pop();
  if (last === undefined) return root;
  if (last === '..') throw new EscapeError(`"${path}" names a parent of the root`);
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const here = join(root, ...resolved, part);
    const info = await lstat(here).catch(() => undefined);
    if (!info?.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new EscapeError(`"${path}": too many levels of symbolic links`);
    const target = await readlink(here);
    if (posix.isAbsolute(target)) resolved.length = 0;
    parts.unshift(...target.split('/'));
  }
  return join(root, ...resolved, last);
}
