/** Trivy's five levels, in order; UNKNOWN when nothing rated the finding. */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export function parseSeverity(value: string): Severity {
  const s = value.trim().toUpperCase();
  if ((SEVERITIES as readonly string[]).includes(s)) return s as Severity;
  throw new Error(`unknown severity "${value}": use ${SEVERITIES.join(', ')}`);
}

/** CVSS v3/v4 qualitative ratings (FIRST's table); v2 has no CRITICAL. */
export function ratingOfScore(score: number, cvssMajor: number): Severity {
  if (score >= 9 && cvssMajor >= 3) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'UNKNOWN';
}
