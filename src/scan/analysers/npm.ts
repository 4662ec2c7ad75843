import { found, nothing, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';
import type { FoundPackage } from '../package.js';

/** `…/node_modules/name/package.json` or `…/node_modules/@scope/name/package.json`, nested trees too. */
const INSTALLED = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@.][^/]*\/package\.json$/;

/** npm packages as installed: every package.json of a node_modules tree (what `npm ls --all` lists). */
export const nodeModules: WholeFileAnalyser = {
  name: 'npm',
  kind: 'whole',
  maxBytes: 4 << 20,
  required: (path) => INSTALLED.test(path),
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const json = parseJson(content);
    if (!json) return { ...nothing(), warnings: ['not valid JSON; skipped'] };
    const { name, version } = json;
    if (typeof name !== 'string' || typeof version !== 'string') return nothing();
    return found({ type: 'packages', target: 'node-pkg', packages: [npmPackage(name, version, licensesOf(json))] });
  },
};

/** package-lock.json v1 (nested `dependencies`) and v2/v3 (flat `packages`), outside node_modules. */
export const npmLock: WholeFileAnalyser = {
  name: 'npm-lock',
  kind: 'whole',
  maxBytes: 64 << 20,
  required: (path) => /(?:^|\/)package-lock\.json$/.test(path) && !path.split('/').includes('node_modules'),
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const json = parseJson(content);
    if (!json) return { ...nothing(), warnings: ['not valid JSON; skipped'] };
    const packages = new Map<string, FoundPackage>();
    const add = (name: string, version: unknown, license: unknown) => {
      if (typeof version === 'string' && /^\d/.test(version)) packages.set(`${name}@${version}`, npmPackage(name, version, typeof license === 'string' ? [license] : []));
    };
    if (isRecord(json.packages)) {
      for (const [key, p] of Object.entries(json.packages)) {
        if (!key || !isRecord(p) || p.link) continue;
        const name = typeof p.name === 'string' ? p.name : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
        add(name, p.version, p.license);
      }
    } else {
      const walk = (deps: unknown) => {
        if (!isRecord(deps)) return;
        for (const [name, d] of Object.entries(deps)) {
          if (!isRecord(d)) continue;
          add(name, d.version, undefined);
          walk(d.dependencies);
        }
      };
      walk(json.dependencies);
    }
    return found({ type: 'packages', target: 'npm-lock', packages: [...packages.values()] });
  },
};

function npmPackage(fullName: string, version: string, licenses: string[]): FoundPackage {
  const slash = fullName.startsWith('@') ? fullName.indexOf('/') : -1;
  return slash > 0
    ? { type: 'npm', namespace: fullName.slice(0, slash), name: fullName.slice(slash + 1), version, licenses }
    : { type: 'npm', name: fullName, version, licenses };
}

/** `"license": "MIT"`, `{ "type": "MIT" }`, or the old `"licenses": [{ "type": … }]`. */
function licensesOf(json: Record<string, unknown>): string[] {
  const one = (l: unknown): string | undefined => (typeof l === 'string' ? l : isRecord(l) && typeof l.type === 'string' ? l.type : undefined);
  const list = json.license !== undefined ? [json.license] : Array.isArray(json.licenses) ? json.licenses : [];
  return list.map(one).filter((l): l is string => l !== undefined);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(content: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(content.toString('utf8')) as unknown;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
