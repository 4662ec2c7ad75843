import type { Digest } from '../oci/digest.js';
import { applyIgnores, type IgnoreFile, type Ignored } from './ignore.js';
import type { Inventory, SecretFinding } from './inventory.js';
import { matchInventory, type TargetVulnerabilities } from './match.js';
import type { OsInfo } from './os.js';
import { severityRank, type Severity } from './severity.js';
import type { VulnDb } from './vulndb/database.js';

export interface ScanOptions {
  /** Only findings of these severities are reported (default: all). */
  severities?: Severity[];
  ignoreUnfixed?: boolean;
  ignoreFile?: IgnoreFile;
  /** A database older than this gets a warning (ms). */
  maxDbAgeMs?: number;
  now?: Date;
}

export interface ScanReport {
  artifact: { name: string; digest: Digest; os?: OsInfo };
  database?: { path: string; importedAt?: string; stale: boolean };
  results: TargetVulnerabilities[];
  secrets: SecretFinding[];
  ignored: Ignored[];
  warnings: string[];
  /** False when a walk limit cut the scan short. */
  complete: boolean;
}

export const DEFAULT_MAX_DB_AGE_MS = 7 * 24 * 3600_000;

/** Matches an inventory against the database and applies the user's filters: what `berth scan` reports. */
export function buildReport(inventory: Inventory, subject: { name: string; digest: Digest }, db: VulnDb | undefined, opts: ScanOptions = {}): ScanReport {
  const now = opts.now ?? new Date();
  const warnings = [...inventory.warnings];
  let database: ScanReport['database'];
  let results: TargetVulnerabilities[] = [];
  if (db) {
    const importedAt = db.importedAt();
    const stale = importedAt === undefined || now.getTime() - importedAt > (opts.maxDbAgeMs ?? DEFAULT_MAX_DB_AGE_MS);
    database = { path: db.path, ...(importedAt ? { importedAt: new Date(importedAt).toISOString() } : {}), stale };
    if (stale) warnings.push(`the vulnerability database was last updated ${importedAt ? new Date(importedAt).toISOString() : 'never'}; run \`berth db update\` (findings published since are missing)`);
    const matched = matchInventory(inventory, db);
    results = matched.results;
    if (matched.unparsable) warnings.push(`${matched.unparsable} advisory range(s) had versions outside their ecosystem's grammar and were skipped`);
  }
  const wanted = (s: Severity) => !opts.severities || opts.severities.includes(s);
  let secrets = inventory.secrets.filter((s) => wanted(s.severity));
  const ignored: Ignored[] = [];
  results = results.map((r) => {
    let vulns = r.vulnerabilities.filter((v) => wanted(v.severity) && !(opts.ignoreUnfixed && !v.fixed));
    if (opts.ignoreFile) {
      const applied = applyIgnores(opts.ignoreFile, vulns, [], now);
      vulns = applied.vulns;
      ignored.push(...applied.ignored);
    }
    return { ...r, vulnerabilities: vulns };
  });
  if (opts.ignoreFile) {
    const applied = applyIgnores(opts.ignoreFile, [], secrets, now);
    secrets = applied.secrets;
    ignored.push(...applied.ignored);
    warnings.push(...applied.expired);
  }
  return {
    artifact: { name: subject.name, digest: subject.digest, ...(inventory.os ? { os: inventory.os } : {}) },
    ...(database ? { database } : {}),
    results,
    secrets,
    ignored,
    warnings,
    complete: inventory.complete,
  };
}

/** Whether anything reported is at or above `threshold` (for --exit-code). */
export function hasFindingsAtLeast(report: ScanReport, threshold: Severity): boolean {
  const at = (s: Severity) => severityRank(s) >= severityRank(threshold);
  return report.results.some((r) => r.vulnerabilities.some((v) => at(v.severity))) || report.secrets.some((s) => at(s.severity));
}
