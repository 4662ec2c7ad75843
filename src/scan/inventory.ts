import type { Digest } from '../oci/digest.js';
import type { Analyser, Finding } from './analyser.js';
import { apk } from './analysers/apk.js';
import { dpkg } from './analysers/dpkg.js';
import { goBinary } from './analysers/go-binary.js';
import { nodeModules, npmLock } from './analysers/npm.js';
import { OS_RELEASE_PATHS, osRelease } from './analysers/os-release.js';
import { python } from './analysers/python.js';
import { secrets as secretsAnalyser } from './analysers/secrets.js';
import type { ImageInput } from './image-input.js';
import type { LayerHistory, PathVersion } from './layer-history.js';
import type { OsInfo } from './os.js';
import { OS_TARGETS, purlOf, type FoundPackage, type Package, type TargetKind } from './package.js';
import { configSecrets } from './secrets/config.js';
import type { SecretMatch } from './secrets/rules.js';
import { DEFAULT_LIMITS, type WalkLimits } from './limits.js';
import { walkLayers } from './walk.js';
import { Warnings } from './warnings.js';

export const PACKAGE_ANALYSERS: Analyser[] = [osRelease, dpkg, apk, nodeModules, npmLock, python, goBinary];

export interface LayerInfo {
  /** 1-based, in manifest order. */
  index: number;
  digest: Digest;
  size: number;
  /** The build step that made it (image config history), when recorded. */
  createdBy?: string;
}

/** Packages found by one analyser in one place (Trivy's "target"). */
export interface Target {
  kind: TargetKind;
  /** `debian 12 (dpkg)`, `Node.js`, `usr/local/bin/app`. */
  name: string;
  packages: Package[];
}

export interface SecretFinding extends SecretMatch {
  /** A file path, or `image config` for Env and history lines. */
  target: string;
  /** The layer that holds the file (absent for the image config, which every pull downloads). */
  layer?: number;
  /** Still in the final filesystem; when false, `removedIn` says which layer deleted or overwrote it. */
  present: boolean;
  removedIn?: number;
}

/** Everything known about an image's contents, before any vulnerability matching. */
export interface Inventory {
  os?: OsInfo;
  targets: Target[];
  secrets: SecretFinding[];
  layers: LayerInfo[];
  warnings: string[];
  /** False when a limit cut the walk short. */
  complete: boolean;
}

export interface InventoryOptions {
  secrets?: boolean;
  limits?: WalkLimits;
}

/** Reads the image's layers once and catalogues its final filesystem (and, with `secrets`, every layer's secrets). */
export async function takeInventory(image: ImageInput, opts: InventoryOptions = {}): Promise<Inventory> {
  const warnings = new Warnings();
  const analysers = opts.secrets ? [...PACKAGE_ANALYSERS, secretsAnalyser] : PACKAGE_ANALYSERS;
  const { history, complete } = await walkLayers(image, analysers, opts.limits ?? DEFAULT_LIMITS, warnings);
  const os = osOf(history);
  return {
    ...(os ? { os } : {}),
    targets: targetsOf(history, os),
    secrets: opts.secrets ? [...(await configSecrets(image.config)), ...fileSecrets(history)] : [],
    layers: layersOf(image),
    warnings: warnings.list(),
    complete,
  };
}

function osOf(history: LayerHistory): OsInfo | undefined {
  for (const path of OS_RELEASE_PATHS) {
    const os = findingsOf(history.finalFile(path)).find((f) => f.type === 'os');
    if (os) return os.os;
  }
  return undefined;
}

function targetsOf(history: LayerHistory, os: OsInfo | undefined): Target[] {
  const targets = new Map<string, Target>();
  for (const path of [...history.paths()].sort()) {
    const final = history.finalFile(path);
    for (const f of findingsOf(final)) {
      if (f.type !== 'packages') continue;
      const name = targetName(f.target, path, os);
      let target = targets.get(name);
      if (!target) targets.set(name, (target = { kind: f.target, name, packages: [] }));
      for (const pkg of f.packages) target.packages.push({ ...pkg, purl: purlOf(pkg, os), path, layer: firstLayerOf(pkg, f.target, history.versionsOf(path), final!) });
    }
  }
  for (const t of targets.values()) t.packages = dedupe(t.packages);
  return [...targets.values()].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** OS packages first, then language packages, as Trivy lists them. */
const rank = (t: Target): number => (OS_TARGETS.has(t.kind) ? 0 : 1);

function targetName(kind: TargetKind, path: string, os: OsInfo | undefined): string {
  if (OS_TARGETS.has(kind)) return `${os ? `${os.family} ${os.version}`.trim() : 'unknown OS'} (${kind})`;
  if (kind === 'node-pkg') return 'Node.js';
  if (kind === 'python-pkg') return 'Python';
  return path;
}

/**
 * The layer that installed this package at this version: the earliest of
 * the unbroken run of versions of the file, ending with the final one,
 * that all list it (dpkg's status is rewritten by every layer that
 * installs anything, so the final file's own layer would say little).
 */
function firstLayerOf(pkg: FoundPackage, kind: TargetKind, versions: readonly PathVersion[], final: PathVersion): number {
  const key = identity(pkg);
  let layer = final.layer;
  for (let i = versions.indexOf(final) - 1; i >= 0; i--) {
    const listed = findingsOf(versions[i]).some((f) => f.type === 'packages' && f.target === kind && f.packages.some((p) => identity(p) === key));
    if (!listed) break;
    layer = versions[i]!.layer;
  }
  return layer;
}

const identity = (p: FoundPackage): string => `${p.namespace ?? ''}/${p.name}@${p.version}/${p.arch ?? ''}`;

function dedupe(packages: Package[]): Package[] {
  const byPurl = new Map<string, Package>();
  for (const p of packages) if (!byPurl.has(p.purl)) byPurl.set(p.purl, p);
  return [...byPurl.values()];
}

function fileSecrets(history: LayerHistory): SecretFinding[] {
  const out: SecretFinding[] = [];
  for (const path of history.paths()) {
    for (const v of history.versionsOf(path)) {
      for (const f of findingsOf(v)) {
        if (f.type !== 'secrets') continue;
        const fate = history.fate(path, v.layer);
        for (const m of f.matches) out.push({ ...m, target: path, layer: v.layer, present: fate.present, ...(fate.removedIn ? { removedIn: fate.removedIn } : {}) });
      }
    }
  }
  return out.sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0) || a.target.localeCompare(b.target) || a.line - b.line);
}

function layersOf(image: ImageInput): LayerInfo[] {
  // History entries with empty_layer made no layer; the others pair with the layers in order.
  const steps = (image.config.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by);
  return image.layers.map((l, i) => {
    const createdBy = steps[i];
    return { index: i + 1, digest: l.digest, size: l.size, ...(createdBy ? { createdBy } : {}) };
  });
}

const findingsOf = (v: PathVersion | undefined): Finding[] => v?.analysis?.findings ?? [];
