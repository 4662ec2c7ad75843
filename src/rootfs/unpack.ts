import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';
import type { Descriptor } from '../oci/descriptor.js';
import { normalise, type LayerInput } from '../scan/walk.js';
import { layerEntries, OPAQUE, WHITEOUT } from './layer-entries.js';
import { EscapeError, scopedPath } from './scoped-path.js';

export interface UnpackResult {
  entries: number;
  /** Device nodes and FIFOs: Node cannot make them, so they are counted, not created. */
  skipped: string[];
}

type Header = tar.Header;

/**
 * Applies the layers in order to `root`, as overlayfs (and `umoci unpack`)
 * would leave them: whiteouts remove what lower layers put there, an opaque
 * directory hides its lower contents, later entries replace earlier ones.
 * Modes, times and, when running as root, owners are kept. Every path is
 * resolved inside `root` (scopedPath), so nothing lands outside it.
 */
export async function unpackLayers(input: LayerInput, root: string): Promise<UnpackResult> {
  await mkdir(root, { recursive: true });
  const result: UnpackResult = { entries: 0, skipped: [] };
  const dirTimes = new Map<string, Date>();
  const asRoot = process.getuid?.() === 0;
  for (const desc of input.layers) await unpackLayer(input, desc, root, { result, dirTimes, asRoot });
  // Directory times last: writing into a directory changes its mtime. Deepest first, so a parent's stays.
  for (const [dir, mtime] of [...dirTimes].sort((a, b) => b[0].length - a[0].length)) await utimes(dir, mtime, mtime).catch(() => undefined);
  return result;
}

interface State {
  result: UnpackResult;
  dirTimes: Map<string, Date>;
  asRoot: boolean;
}

async function unpackLayer(input: LayerInput, desc: Descriptor, root: string, state: State): Promise<void> {
  // Whiteouts hide lower layers only: what this layer wrote itself stays.
  const mine = new Set<string>();
  for await (const { path, entry } of layerEntries(input, desc)) {
    await applyEntry(root, path, entry.header, entry, mine, state);
    state.result.entries++;
  }
}

async function applyEntry(root: string, path: string, header: Header, body: AsyncIterable<Buffer>, mine: Set<string>, state: State): Promise<void> {
  const base = posix.basename(path);
  const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path);
  if (base === OPAQUE) {
    // The directory itself, symlinks on the way resolved (a child's parent, since scopedPath keeps the last component).
    const dir = dirname(await scopedPath(root, `${parent}/x`));
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!mine.has(parent ? `${parent}/${name}` : name)) await rm(`${dir}/${name}`, { recursive: true, force: true });
    }
    return;
  }
  if (base.startsWith(WHITEOUT)) {
    await rm(await scopedPath(root, parent ? `${parent}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length)), { recursive: true, force: true });
    return;
  }
  if (path === '') return;
  mine.add(path);
  const target = await scopedPath(root, path);
  await mkdir(dirname(target), { recursive: true });
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !(existing.isDirectory() && header.type === 'directory')) await rm(target, { recursive: true, force: true });
  const mode = (header.mode ?? 0o644) & 0o7777;
  const mtime = header.mtime ?? new Date(0);
  switch (header.type) {
    case 'directory':
      await mkdir(target, { recursive: true });
      state.dirTimes.set(target, mtime);
      break;
    case 'file':
    case 'contiguous-file':
      await pipeline(body, createWriteStream(target, { mode: 0o600 }));
      break;
    case 'symlink':
      await symlink(header.linkname ?? '', target);
      break;
    case 'link': {
      const source = normalise(header.linkname ?? '');
      if (source === undefined) throw new EscapeError(`hard link ${path} -> ${header.linkname} climbs out of the root`);
      await link(await scopedPath(root, source), target);
      return;
    }
    default:
      state.result.skipped.push(`${path} (${header.type})`);
      return;
  }
  if (state.asRoot) await lchown(target, header.uid ?? 0, header.gid ?? 0);
  if (header.type !== 'symlink') await chmod(target, mode);
  if (header.type === 'symlink') await lutimes(target, mtime, mtime);
  else if (header.type !== 'directory') await utimes(target, mtime, mtime);
}
