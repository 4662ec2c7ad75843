import { createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { normalise, type LayerInput } from '../scan/walk.js';
import { layerEntries, OPAQUE, WHITEOUT, type TarEntry } from './layer-entries.js';

/** Called once per path of the final filesystem; an entry's body it does not read is skipped. */
type Visit = (path: string, entry: TarEntry) => Promise<void>;

/**
 * The image's final filesystem as one tar (`docker export`, `crane export`),
 * streamed: layers are read newest first and each path is written once, the
 * first time it is met; what a newer layer deleted or replaced is skipped.
 * A first pass collects the symlinks only, so that an entry written through
 * one (`lib -> usr/lib`, then `lib/x`) goes where the container sees it,
 * and an extracting tar never follows a link out of its directory.
 * Nothing is unpacked to disk and no file is held in memory.
 */
export async function exportLayers(input: LayerInput, file: string): Promise<{ entries: number }> {
  const links = new Map<string, string>();
  await flatten(input, async (path, entry) => {
    if (entry.header.type === 'symlink') links.set(path, entry.header.linkname ?? '');
  });
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(file));
  written.catch(() => undefined);
  const seen = new Set<string>();
  // A hard link of a newer layer may name a file of an older one, met later: links go last, when every file is in.
  const hardLinks: tar.Header[] = [];
  await flatten(input, async (raw, entry) => {
    const path = resolveIn(links, raw);
    if (seen.has(path)) return;
    seen.add(path);
    const { header } = entry;
    const name = header.type === 'directory' ? `${path}/` : path;
    if (header.type === 'link') {
      hardLinks.push({ ...header, name, linkname: resolveIn(links, normalise(header.linkname ?? '') ?? '') });
      return;
    }
    await pipeline(entry, pack.entry({ ...header, name }));
  });
  for (const h of hardLinks) pack.entry(h);
  pack.finalize();
  await written;
  return { entries: seen.size };
}

/** Calls `visit` once per path of the final filesystem, with its newest version. */
async function flatten(input: LayerInput, visit: Visit): Promise<void> {
  const seen = new Set<string>();
  const deleted = new Set<string>();
  const opaque = new Set<string>();
  for (const desc of [...input.layers].reverse()) {
    // A layer's whiteouts hide only the layers below it.
    const layerDeleted: string[] = [];
    const layerOpaque: string[] = [];
    for await (const { path, entry } of layerEntries(input, desc)) {
      const base = posix.basename(path);
      const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path);
      if (base === OPAQUE) layerOpaque.push(parent);
      else if (base.startsWith(WHITEOUT)) layerDeleted.push(parent ? `${parent}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length));
      else if (path !== '' && !seen.has(path) && !hidden(path, deleted, opaque)) {
        seen.add(path);
        await visit(path, entry);
      }
    }
    for (const d of layerDeleted) deleted.add(d);
    for (const o of layerOpaque) opaque.add(o);
  }
}

/** Deleted itself or below a deleted path, or below a directory a newer layer made opaque. */
function hidden(path: string, deleted: Set<string>, opaque: Set<string>): boolean {
  if (deleted.has(path)) return true;
  for (let p = posix.dirname(path); p !== '.'; p = posix.dirname(p)) if (deleted.has(p) || opaque.has(p)) return true;
  return opaque.has('');
}

/** scopedPath over the symlinks of the final filesystem instead of a directory: parents resolved, the last component kept. */
function resolveIn(links: Map<string, string>, path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const last = parts.pop() ?? '';
  const resolved: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const target = links.get([...resolved, part].join('/'));
    if (target === undefined || ++hops > 255) {
      resolved.push(part);
      continue;
    }
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return [...resolved, last].filter(Boolean).join('/');
}
