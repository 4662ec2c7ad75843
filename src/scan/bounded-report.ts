import type { SecretFinding } from './inventory.js';
import type { TargetVulnerabilities } from './match.js';
import type { OsInfo } from './os.js';
import type { ScanReport } from './report.js';
import { SEVERITIES, type Severity } from './severity.js';

/** A report as the registry keeps it: about content, so it names no repository and no server path. */
export interface KeptReport {
  os?: OsInfo;
  results: TargetVulnerabilities[];
  secrets: SecretFinding[];
  warnings: string[];
  complete: boolean;
  /** Findings left out to stay within the size the registry keeps, least severe first (the summary still counts them). */
  omitted?: { severities: Severity[]; vulnerabilities: number; secrets: number };
}

/**
 * The report as JSON of at most `maxBytes` bytes: whole severities are left out,
 * UNKNOWN first, until it fits, so what is kept is always the most severe.
 * A report of a few thousand findings is kept whole.
 */
export function boundReport(report: ScanReport, maxBytes: number): string {
  let kept: KeptReport = { ...(report.artifact.os ? { os: report.artifact.os } : {}), results: report.results, secrets: report.secrets, warnings: report.warnings, complete: report.complete };
  let json = JSON.stringify(kept);
  const omitted = { severities: [] as Severity[], vulnerabilities: 0, secrets: 0 };
  for (const severity of SEVERITIES) {
    if (Buffer.byteLength(json) <= maxBytes) return json;
    kept = without(kept, (s) => s === severity, omitted);
    omitted.severities.push(severity);
    json = JSON.stringify({ ...kept, omitted });
  }
  // No finding is left: what remains is the OS and at most a hundred warning lines.
  return json;
}

function without(r: KeptReport, drop: (s: Severity) => boolean, omitted: { vulnerabilities: number; secrets: number }): KeptReport {
  const results = r.results.map((t) => {
    const vulnerabilities = t.vulnerabilities.filter((v) => !drop(v.severity));
    omitted.vulnerabilities += t.vulnerabilities.length - vulnerabilities.length;
    return { ...t, vulnerabilities };
  });
  const secrets = r.secrets.filter((s: SecretFinding) => !drop(s.severity));
  omitted.secrets += r.secrets.length - secrets.length;
  return { ...r, results, secrets };
}
