import { rateCvss, type CvssRating } from '../cvss.js';
import { type Severity } from '../severity.js';
import { compareFor } from '../versions/index.js';

/** The parts of an OSV record (ossf/osv-schema 1.6) Berth stores. */
export interface OsvRecord {
  id: string;
  modified: string;
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: { type: string; score: string }[];
  affected?: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: { severity?: unknown };
}

export interface OsvAffected {
  package?: { ecosystem?: string; name?: string };
  ranges?: OsvRange[];
  versions?: string[];
  severity?: { type: string; score: string }[];
  ecosystem_specific?: { severity?: unknown; urgency?: unknown };
  database_specific?: { severity?: unknown };
}

export interface OsvRange {
  type: string;
  events: OsvEvent[];
}

export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

/** An advisory as stored: what a report shows. */
export interface Advisory {
  id: string;
  modified: string;
  summary: string;
  severity: Severity;
  cvss?: CvssRating;
  /** CVE ids and the like, for people and for `ignore` entries. */
  aliases: string[];
  url: string;
}

/** One package an advisory affects, in one ecosystem. */
export interface AffectedPackage {
  ecosystem: string;
  name: string;
  ranges: OsvRange[];
  versions: string[];
  /** The ecosystem's own rating of this package's exposure (Debian urgency, Ubuntu priority), if any. */
  severity?: Severity;
}

export class OsvFormatError extends Error {
  override readonly name = 'OsvFormatError';
}

/** Validates a record's shape; affected entries of ecosystems Berth cannot order are dropped. */
export function parseOsv(json: unknown): { advisory: Advisory; affected: AffectedPackage[]; withdrawn: boolean } {
  if (!isRecord(json) || typeof json.id !== 'string' || typeof json.modified !== 'string') throw new OsvFormatError('not an OSV record (needs string id and modified)');
  const r = json as unknown as OsvRecord;
  const affected: AffectedPackage[] = [];
  for (const a of Array.isArray(r.affected) ? r.affected : []) {
    const ecosystem = a.package?.ecosystem;
    const name = a.package?.name;
    if (typeof ecosystem !== 'string' || typeof name !== 'string' || !compareFor(ecosystem)) continue;
    const ranges = (Array.isArray(a.ranges) ? a.ranges : []).filter((g) => (g.type === 'ECOSYSTEM' || g.type === 'SEMVER') && Array.isArray(g.events) && g.events.every(isEvent));
    const versions = (Array.isArray(a.versions) ? a.versions : []).filter((v): v is string => typeof v === 'string');
    const severity = ecosystemRating(a);
    affected.push({ ecosystem, name: normalisePackageName(ecosystem, name), ranges, versions, ...(severity ? { severity } : {}) });
  }
  const cvss = bestCvss(r.severity ?? []);
  const advisory: Advisory = {
    id: r.id,
    modified: r.modified,
    summary: summaryOf(r),
    severity: cvss?.severity ?? databaseRating(r.database_specific?.severity) ?? ubuntuRating(r.severity ?? []) ?? 'UNKNOWN',
    ...(cvss ? { cvss } : {}),
    aliases: [...new Set([...(r.aliases ?? []), ...(r.upstream ?? [])])].filter((a) => typeof a === 'string'),
    url: referenceOf(r),
  };
  return { advisory, affected, withdrawn: typeof r.withdrawn === 'string' };
}

/** PyPI names compare normalised (PEP 503); other ecosystems' names are exact. */
export function normalisePackageName(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

const CVSS_PREFERENCE = ['CVSS_V3', 'CVSS_V4', 'CVSS_V2'];

function bestCvss(severity: { type: string; score: string }[]): CvssRating | undefined {
  for (const type of CVSS_PREFERENCE) {
    for (const s of severity) {
      if (s.type !== type || typeof s.score !== 'string') continue;
      const rating = rateCvss(s.score);
      if (rating) return rating;
    }
  }
  return undefined;
}

/** GitHub's advisories rate in database_specific (LOW, MODERATE, HIGH, CRITICAL). */
function databaseRating(v: unknown): Severity | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.toUpperCase() === 'MODERATE' ? 'MEDIUM' : v.toUpperCase();
  return (['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const).find((x) => x === s);
}

/** Ubuntu's priorities (negligible, low, medium, high, critical) come as severity type "Ubuntu". */
function ubuntuRating(severity: { type: string; score: string }[]): Severity | undefined {
  const s = severity.find((x) => x.type === 'Ubuntu')?.score;
  return s === 'negligible' ? 'LOW' : databaseRating(s);
}

/** Debian's urgency (`low`, `medium**`, `unimportant`) and other per-package ratings. */
function ecosystemRating(a: OsvAffected): Severity | undefined {
  const raw = a.ecosystem_specific?.severity ?? a.ecosystem_specific?.urgency ?? a.database_specific?.severity;
  if (typeof raw !== 'string') return ubuntuRating(a.severity ?? []);
  const v = raw.replace(/\*+$/, '').toLowerCase();
  if (v === 'unimportant' || v === 'negligible') return 'LOW';
  return databaseRating(v);
}

function summaryOf(r: OsvRecord): string {
  const text = (r.summary ?? r.details ?? '').trim().split('\n', 1)[0] ?? '';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

function referenceOf(r: OsvRecord): string {
  const refs = Array.isArray(r.references) ? r.references : [];
  return refs.find((x) => x.type === 'ADVISORY')?.url ?? refs.find((x) => x.type === 'WEB')?.url ?? `https://osv.dev/vulnerability/${encodeURIComponent(r.id)}`;
}

function isEvent(e: unknown): e is OsvEvent {
  if (!isRecord(e)) return false;
  const keys = Object.keys(e);
  return keys.length === 1 && ['introduced', 'fixed', 'last_affected', 'limit'].includes(keys[0]!) && typeof e[keys[0]!] === 'string';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
