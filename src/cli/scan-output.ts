import type { SecretFinding } from '../scan/inventory.js';
import type { Vulnerability } from '../scan/match.js';
import type { ScanReport } from '../scan/report.js';
import { secretWhere } from '../scan/secret-text.js';
import { SEVERITIES, severityRank, type Severity } from '../scan/severity.js';
import { table } from './common.js';

/** Trivy's layout: a heading per target, the totals by severity, then one row per finding. */
export function reportTables(report: ScanReport): string {
  const out: string[] = [];
  const os = report.artifact.os ? ` (${report.artifact.os.name})` : '';
  out.push(`${report.artifact.name}@${report.artifact.digest}${os}`);
  if (report.database?.importedAt) out.push(`vulnerability database: ${report.database.importedAt}`);
  for (const r of report.results) {
    out.push('', heading(r.target), totals(r.vulnerabilities.map((v) => v.severity)));
    if (r.vulnerabilities.length) out.push('', table(['LIBRARY', 'VULNERABILITY ID', 'SEVERITY', 'INSTALLED', 'FIXED IN', 'LAYER', 'TITLE'], bySeverity(r.vulnerabilities).map(vulnRow)));
  }
  if (report.secrets.length || report.results.length === 0) {
    out.push('', heading('Secrets (image config and every layer)'), totals(report.secrets.map((s) => s.severity)));
    for (const s of bySeverity(report.secrets)) out.push('', secretLines(s));
  }
  if (report.ignored.length) out.push('', `${report.ignored.length} finding(s) ignored by the ignore file`);
  return out.join('\n');
}

const heading = (text: string): string => `${text}\n${'='.repeat(Math.min(text.length, 100))}`;

function totals(severities: Severity[]): string {
  const counts = [...SEVERITIES].map((s) => `${s}: ${severities.filter((x) => x === s).length}`).join(', ');
  return `Total: ${severities.length} (${counts})`;
}

const bySeverity = <T extends { severity: Severity }>(items: T[]): T[] => [...items].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));

function vulnRow(v: Vulnerability): string[] {
  const title = v.title.length > 60 ? `${v.title.slice(0, 59)}…` : v.title;
  return [v.package.name, v.id, v.severity, v.installed, v.fixed ?? '', String(v.package.layer), title || v.url];
}

function secretLines(s: SecretFinding): string {
  return `${s.severity}   ${s.rule} (${s.title})\n    ${secretWhere(s)}\n    ${s.excerpt}`;
}
