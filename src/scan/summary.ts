import type { Inventory } from './inventory.js';
import type { ScanReport } from './report.js';
import { secretWhere } from './secret-text.js';
import { SEVERITIES, severityRank, type Severity } from './severity.js';

export type SeverityCounts = Record<Severity, number>;

export interface WorstVulnerability {
  id: string;
  package: string;
  installed: string;
  fixed?: string;
  severity: Severity;
}

export interface WorstSecret {
  rule: string;
  /** Where, as `berth scan` prints it (file, line, layer; never the secret). */
  where: string;
  severity: Severity;
}

/**
 * A scan in a few hundred bytes, whatever the image: what a pull policy
 * judges by and names in a refusal, and what a list of images shows.
 */
export interface ScanSummary {
  /** The OS's PRETTY_NAME, when known. */
  os?: string;
  packages: number;
  /** False when a walk limit cut the scan short: findings may be missing. */
  complete: boolean;
  vulnerabilities: SeverityCounts;
  /** Vulnerabilities with a fixed version published. */
  fixable: number;
  secrets: SeverityCounts;
  /** The most severe findings, most severe first. */
  worst: { vulnerabilities: WorstVulnerability[]; secrets: WorstSecret[] };
}

/** Findings of each kind a summary names. */
const WORST = 10;

export function summarise(report: ScanReport, inventory: Inventory): ScanSummary {
  const vulns = report.results.flatMap((r) => r.vulnerabilities);
  const bySeverity = <T extends { severity: Severity }>(items: T[]) => [...items].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)).slice(0, WORST);
  return {
    ...(report.artifact.os ? { os: report.artifact.os.name } : {}),
    packages: inventory.targets.reduce((n, t) => n + t.packages.length, 0),
    complete: report.complete,
    vulnerabilities: counts(vulns),
    fixable: vulns.filter((v) => v.fixed !== undefined).length,
    secrets: counts(report.secrets),
    worst: {
      vulnerabilities: bySeverity(vulns).map((v) => ({ id: v.id, package: v.package.name, installed: v.installed, ...(v.fixed ? { fixed: v.fixed } : {}), severity: v.severity })),
      secrets: bySeverity(report.secrets).map((s) => ({ rule: s.rule, where: secretWhere(s), severity: s.severity })),
    },
  };
}

/** Findings at or above `threshold`. */
export function countAtLeast(c: SeverityCounts, threshold: Severity): number {
  return SEVERITIES.filter((s) => severityRank(s) >= severityRank(threshold)).reduce((n, s) => n + c[s], 0);
}

const counts = (items: { severity: Severity }[]): SeverityCounts => {
  const c = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
  for (const i of items) c[i.severity]++;
  return c;
};
