import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Analyser, Analysis, FileVersion, StreamReader, WholeFileAnalyser } from './analyser.js';
import { decompressedTar, LayerReadError } from './decompress.js';
import { LayerHistory } from './layer-history.js';
import type { WalkLimits } from './limits.js';
import type { Warnings } from './warnings.js';

/** The layers of one image, opened one at a time in order. */
export interface LayerInput {
  layers: Descriptor[];
  open(desc: Descriptor): Promise<AsyncIterable<Buffer>>;
}

export interface WalkResult {
  history: LayerHistory;
  /** False when a limit cut the walk short: what was found is reported, the rest was not read. */
  complete: boolean;
}

const OPAQUE = '.wh..wh..opq';
const WHITEOUT = '.wh.';

/**
 * Streams every layer once, in order, through the analysers: no layer is
 * unpacked to disk or held in memory; only files an analyser asked for are
 * read, each at most its analyser's bound. Whiteouts and later versions are
 * recorded so the final filesystem, and where each file left it, can be
 * told afterwards.
 */
export async function walkLayers(input: LayerInput, analysers: Analyser[], limits: WalkLimits, warnings: Warnings): Promise<WalkResult> {
  const history = new LayerHistory();
  const budget = { entries: limits.maxEntries, bytes: limits.maxBytes };
  for (const [i, desc] of input.layers.entries()) {
    const layer = i + 1;
    if (desc.urls?.length) {
      warnings.add(`layer ${layer} (${desc.digest}) is non-distributable (it lives at ${desc.urls[0]}); its files were not read`);
      continue;
    }
    const tarStream = decompressedTar(await input.open(desc), desc);
    let stopped: string | undefined;
    try {
      stopped = await walkLayer(tarStream, layer, analysers, history, budget, warnings);
    } catch (e) {
      const why = e instanceof LayerReadError ? e.message : `not a readable tar: ${(e as Error).message}`;
      throw new LayerReadError(`layer ${layer} of ${input.layers.length} (${desc.digest}): ${why}`);
    } finally {
      tarStream.destroy();
    }
    if (stopped) {
      const left = input.layers.length - layer;
      warnings.add(`layer ${layer}: ${stopped}; the scan stopped there${left ? ` (${left} later layer${left === 1 ? '' : 's'} not read)` : ''}, so its results are incomplete`);
      return { history, complete: false };
    }
  }
  return { history, complete: true };
}

/** Reads one layer; returns why it stopped early, if a limit was reached. */
async function walkLayer(
  tarStream: Readable,
  layer: number,
  analysers: Analyser[],
  history: LayerHistory,
  budget: { entries: number; bytes: number },
  warnings: Warnings,
): Promise<string | undefined> {
  const extract = tar.extract();
  tarStream.on('error', (e) => extract.destroy(e));
  tarStream.pipe(extract);
  for await (const entry of extract) {
    const { header } = entry;
    if (--budget.entries < 0) {
      entry.resume();
      return 'the entry limit was reached (a tar bomb?)';
    }
    const path = normalise(header.name);
    if (path === undefined) {
      warnings.add(`layer ${layer}: entry "${header.name.slice(0, 200)}" climbs out of the root; skipped`);
      await drain(entry);
      continue;
    }
    const base = posix.basename(path);
    if (base.startsWith(WHITEOUT)) {
      const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
      if (base === OPAQUE) history.whiteout(layer, dir, true);
      else if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) history.whiteout(layer, dir ? `${dir}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length), false);
      await drain(entry);
      continue;
    }
    if (header.type === 'file' || header.type === 'contiguous-file') {
      const size = header.size ?? 0;
      if (size > budget.bytes) {
        entry.resume();
        return `the byte limit was reached at ${path} (${size} bytes; a decompression bomb?)`;
      }
      budget.bytes -= size;
      const file: FileVersion = { path, layer, size, mode: header.mode ?? 0 };
      const analysis = await analyseFile(entry, file, analysers, warnings);
      if (history.tracks(path) || analysis.findings.length > 0) history.add(path, { layer, kind: 'file', analysis });
      continue;
    }
    if (header.type === 'symlink') warnIfEscaping(path, header.linkname ?? '', layer, warnings);
    if (header.type === 'link') {
      const target = normalise(header.linkname ?? '');
      const linked = target === undefined ? undefined : history.versionsOf(target).find((v) => v.layer === layer && v.kind === 'file');
      if (linked) {
        history.add(path, linked);
        await drain(entry);
        continue;
      }
    }
    if (history.tracks(path)) history.add(path, { layer, kind: header.type === 'symlink' ? 'symlink' : header.type === 'directory' ? 'dir' : 'other' });
    await drain(entry);
  }
  return undefined;
}

async function analyseFile(entry: EntryBody, file: FileVersion, analysers: Analyser[], warnings: Warnings): Promise<Analysis> {
  const whole: WholeFileAnalyser[] = [];
  const readers: StreamReader[] = [];
  for (const a of analysers) {
    if (!a.required(file.path, file.size, file.mode)) continue;
    if (a.kind === 'stream') readers.push(a.open(file));
    else if (file.size > a.maxBytes) warnings.add(`${file.path} (layer ${file.layer}): ${file.size} bytes is over the ${a.name} analyser's limit of ${a.maxBytes}; not read`);
    else whole.push(a);
  }
  if (whole.length === 0 && readers.length === 0) {
    await drain(entry);
    return { findings: [], warnings: [] };
  }
  const content = whole.length > 0 ? Buffer.allocUnsafe(file.size) : undefined;
  let offset = 0;
  let open = readers.slice();
  for await (const piece of entry) {
    const chunk = piece as Buffer;
    if (content) chunk.copy(content, offset);
    offset += chunk.length;
    open = open.filter((r) => r.write(chunk));
    if (!content && open.length === 0) {
      await drain(entry);
      break;
    }
  }
  const results: Analysis[] = readers.map((r) => r.end());
  for (const a of whole) results.push(await a.analyse(file, content!.subarray(0, offset)));
  const merged: Analysis = { findings: results.flatMap((r) => r.findings), warnings: [] };
  for (const w of results.flatMap((r) => r.warnings)) warnings.add(`${file.path} (layer ${file.layer}): ${w}`);
  return merged;
}

/** `./usr/bin/`, `/usr/bin` -> `usr/bin`; undefined for names that climb above the root. */
export function normalise(name: string): string | undefined {
  const p = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (p === '..' || p.startsWith('../')) return undefined;
  return p === '.' ? '' : p;
}

function warnIfEscaping(path: string, target: string, layer: number, warnings: Warnings): void {
  if (target.startsWith('/')) return;
  const depth = path.split('/').length - 1;
  let level = depth;
  for (const part of target.split('/')) {
    if (part === '..') level--;
    else if (part !== '.' && part !== '') level++;
    if (level < 0) {
      warnings.add(`layer ${layer}: symlink ${path} -> ${target.slice(0, 200)} points outside the image root; it is not followed (inside a container it would stop at /)`);
      return;
    }
  }
}

/** A tar entry's body (a streamx stream, not a Node Readable). */
type EntryBody = AsyncIterable<unknown>;

/** Skips the rest of an entry: tar-stream moves to the next header only once this one's bytes are consumed. */
async function drain(entry: EntryBody): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}
