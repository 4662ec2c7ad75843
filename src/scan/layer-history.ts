import type { Analysis } from './analyser.js';

/** One layer's entry at a path the scan cares about. */
export interface PathVersion {
  layer: number;
  kind: 'file' | 'symlink' | 'dir' | 'other';
  /** What the analysers found in this version (files only). */
  analysis?: Analysis;
}

/** Whether a version is in the final filesystem; if not, the layer whose whiteout deleted it or that wrote the path again. */
export interface Fate {
  present: boolean;
  removedIn?: number;
}

interface Whiteout {
  layer: number;
  path: string;
  /** An opaque directory hides everything below it from lower layers, but not the directory itself. */
  opaque: boolean;
}

/**
 * Every version of the paths analysers asked for, and every whiteout, in
 * layer order: enough to tell what the final filesystem holds (overlayfs
 * rules) and, for a file that is gone, which layer removed it, while the
 * layers themselves are read only once and never kept.
 */
export class LayerHistory {
  private readonly versions = new Map<string, PathVersion[]>();
  private readonly whiteouts: Whiteout[] = [];

  tracks(path: string): boolean {
    return this.versions.has(path);
  }

  add(path: string, version: PathVersion): void {
    const list = this.versions.get(path);
    if (list) list.push(version);
    else this.versions.set(path, [version]);
  }

  versionsOf(path: string): readonly PathVersion[] {
    return this.versions.get(path) ?? [];
  }

  paths(): IterableIterator<string> {
    return this.versions.keys();
  }

  whiteout(layer: number, path: string, opaque: boolean): void {
    this.whiteouts.push({ layer, path, opaque });
  }

  /** Whether the version `layer` wrote at `path` is in the final filesystem, and if not, who removed it. */
  fate(path: string, layer: number): Fate {
    const replacedIn = this.versionsOf(path).find((v) => v.layer > layer)?.layer;
    const deletedIn = this.whiteouts.find((w) => w.layer > layer && (w.opaque ? isBelow(path, w.path) : w.path === path || isBelow(path, w.path)))?.layer;
    if (replacedIn === undefined && deletedIn === undefined) return { present: true };
    return { present: false, removedIn: Math.min(deletedIn ?? Infinity, replacedIn ?? Infinity) };
  }

  /** The version of `path` in the final filesystem, if a regular file is there. */
  finalFile(path: string): PathVersion | undefined {
    const list = this.versionsOf(path);
    const last = list[list.length - 1];
    return last && last.kind === 'file' && this.fate(path, last.layer).present ? last : undefined;
  }
}

const isBelow = (path: string, dir: string): boolean => dir === '' || path.startsWith(`${dir}/`);
