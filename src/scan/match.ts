import type { Inventory, Target } from './inventory.js';
import { osvEcosystems } from './os.js';
import { fullName, type Package } from './package.js';
import type { Severity } from './severity.js';
import { compareFor } from './versions/index.js';
import type { AffectedRow, VulnDb } from './vulndb/database.js';
import { normalisePackageName, type Advisory } from './vulndb/osv.js';
import { evaluate } from './vulndb/ranges.js';

export interface Vulnerability {
  id: string;
  aliases: string[];
  /** The package as installed (a Debian binary package, though matched by its source). */
  package: Pick<Package, 'name' | 'namespace' | 'version' | 'purl' | 'path' | 'layer'>;
  installed: string;
  /** The first version that fixes it; absent when no fix is published. */
  fixed?: string;
  severity: Severity;
  /** Where the rating came from: `cvss` (with the vector), the ecosystem's own, or an alias's. */
  severitySource: 'cvss' | 'advisory' | 'ecosystem' | 'alias' | 'none';
  cvss?: { vector: string; score: number };
  title: string;
  url: string;
}

export interface TargetVulnerabilities {
  target: string;
  kind: Target['kind'];
  vulnerabilities: Vulnerability[];
}

/** How a package is named and versioned in OSV: OS packages by their source package, at its version. */
function osvCoordinates(pkg: Package, inventory: Inventory): { ecosystems: string[]; name: string; version: string } | undefined {
  switch (pkg.type) {
    case 'deb':
    case 'apk':
      return inventory.os ? { ecosystems: osvEcosystems(inventory.os), name: pkg.source?.name ?? pkg.name, version: pkg.source?.version ?? pkg.version } : undefined;
    case 'npm':
      return { ecosystems: ['npm'], name: fullName(pkg), version: pkg.version };
    case 'pypi':
      return { ecosystems: ['PyPI'], name: normalisePackageName('PyPI', pkg.name), version: pkg.version };
    case 'golang':
      return { ecosystems: ['Go'], name: fullName(pkg), version: pkg.version.replace(/^v/, '') };
    default:
      return undefined;
  }
}

/** Every advisory of `db` that affects a package of the inventory, per target; `unparsable` counts ranges skipped. */
export function matchInventory(inventory: Inventory, db: VulnDb): { results: TargetVulnerabilities[]; unparsable: number } {
  const unparsable = { count: 0 };
  // Binary packages of one source (libc6, libc-bin, … from glibc) ask the same question: answer it once.
  const verdicts = new Map<string, { row: AffectedRow; fixed: string | undefined }[]>();
  const advisories = new Map<string, Advisory | undefined>();
  const advisory = (id: string) => {
    if (!advisories.has(id)) advisories.set(id, db.advisory(id));
    return advisories.get(id);
  };
  const affectedBy = (ecosystem: string, name: string, version: string) => {
    const key = `${ecosystem}\0${name}\0${version}`;
    let list = verdicts.get(key);
    if (!list) {
      const compare = compareFor(ecosystem);
      list = [];
      for (const row of compare ? db.affecting(ecosystem, name) : []) {
        const verdict = evaluate(version, row, compare!, unparsable);
        if (verdict.affected) list.push({ row, fixed: verdict.fixed });
      }
      verdicts.set(key, list);
    }
    return list;
  };
  const results = inventory.targets.map((target) => {
    const vulnerabilities: Vulnerability[] = [];
    for (const pkg of target.packages) {
      const at = osvCoordinates(pkg, inventory);
      if (!at) continue;
      const seen = new Set<string>();
      for (const ecosystem of at.ecosystems) {
        for (const { row, fixed } of affectedBy(ecosystem, at.name, at.version)) {
          if (seen.has(row.advisoryId)) continue;
          seen.add(row.advisoryId);
          const v = describe(advisory, row, pkg, fixed);
          if (v) vulnerabilities.push(v);
        }
      }
    }
    vulnerabilities.sort((a, b) => a.package.name.localeCompare(b.package.name) || a.id.localeCompare(b.id));
    return { target: target.name, kind: target.kind, vulnerabilities };
  });
  return { results, unparsable: unparsable.count };
}

function describe(lookup: (id: string) => Advisory | undefined, row: AffectedRow, pkg: Package, fixed: string | undefined): Vulnerability | undefined {
  const advisory = lookup(row.advisoryId);
  if (!advisory) return undefined;
  let severity = advisory.severity;
  let severitySource: Vulnerability['severitySource'] = advisory.cvss ? 'cvss' : severity !== 'UNKNOWN' ? 'advisory' : 'none';
  if (severity === 'UNKNOWN' && row.severity) {
    severity = row.severity;
    severitySource = 'ecosystem';
  }
  // Distribution advisories often carry no rating of their own; the CVE they track may (a GHSA, say).
  let cvss = advisory.cvss;
  if (severity === 'UNKNOWN') {
    for (const alias of advisory.aliases) {
      const other = lookup(alias);
      if (other && other.severity !== 'UNKNOWN') {
        severity = other.severity;
        severitySource = 'alias';
        cvss = other.cvss;
        break;
      }
    }
  }
  return {
    id: advisory.id,
    aliases: advisory.aliases,
    package: { name: fullName(pkg), ...(pkg.namespace ? { namespace: pkg.namespace } : {}), version: pkg.version, purl: pkg.purl, path: pkg.path, layer: pkg.layer },
    installed: pkg.version,
    ...(fixed ? { fixed } : {}),
    severity,
    severitySource,
    ...(cvss ? { cvss: { vector: cvss.vector, score: cvss.score } } : {}),
    title: advisory.summary,
    url: advisory.url,
  };
}
