import picomatch from 'picomatch';
import type { JobQueue } from '../jobs/queue.js';
import type { ManifestRow } from '../meta/metadata.js';
import { ScanQueries } from '../meta/scan-queries.js';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { isScannableImage, mayBeImage } from '../scan/scannable.js';
import type { Severity } from '../scan/severity.js';
import { countAtLeast, type ScanSummary } from '../scan/summary.js';
import { severityRank } from '../scan/severity.js';
import type { RegistryContext } from './context.js';
import type { PullGate } from './gates.js';
import { loadManifest } from './manifests.js';
import { scanProgress } from './scan-progress.js';

export interface ScanRule {
  /** The `repos` globs as written, to name the rule in refusals. */
  repos: string[];
  /** A vulnerability at or above this refuses the image. */
  severity?: Severity;
  /** A secret in any layer or in the config refuses the image. */
  secrets: boolean;
  /** An image with no result yet (or, for `severity`, none made with a vulnerability database): served, or refused until scanned. */
  unscanned: 'allow' | 'deny';
}

/** What is cached per digest: its result's summary (none: not scanned), and, once asked, whether it is an image at all. */
interface Known {
  summary?: ScanSummary;
  withDatabase?: boolean;
  image?: boolean;
}

/** A summary is a few hundred bytes to a few KiB; this bounds the cache whatever the registry holds. */
const VERDICT_CACHE_BYTES = 8 << 20;
/** Findings of each kind named in a refusal. */
const NAMED = 3;

/**
 * `scan.policy` of berth.yaml, Harbor's "prevent vulnerable images from
 * running": for repositories matching a rule, an image is not served while
 * its last scan found vulnerabilities at or above the rule's severity, or
 * secrets, or stopped at a limit (findings may be missing), and, with
 * `unscanned: deny`, until it has been scanned. Only images are judged:
 * signatures, attestations, SBOMs and other referrers stay readable so
 * clients can verify and inspect, and an index is served while each child
 * is judged when pulled (a clean amd64 image is not held back by an arm64
 * one). A HEAD serves no content and is how signers learn the digest.
 *
 * What a result says is cached per digest, in bytes, and dropped whenever
 * another process wrote metadata (a worker thread storing a scan, another
 * replica): SQLite's data_version, PostgreSQL's notification on every
 * write to scan_results (migration 007).
 */
export class ScanPolicy implements PullGate {
  readonly name = 'scan policy';
  private readonly matchers: { rule: ScanRule; matches: (repo: string) => boolean }[];
  private readonly known;

  constructor(
    private readonly ctx: RegistryContext,
    rules: ScanRule[],
    private readonly jobs: JobQueue,
  ) {
    this.matchers = rules.map((rule) => ({ rule, matches: picomatch(rule.repos, { dot: true }) }));
    this.known = ctx.caches.derivedCache<Digest, Known>(VERDICT_CACHE_BYTES, (v, k) => 2 * k.length + 2 * JSON.stringify(v.summary ?? '').length + 16);
  }

  install(): void {
    if (this.matchers.length > 0) this.ctx.gates.pull.push(this);
  }

  async checkPull(repo: RepoName, manifest: ManifestRow, head: boolean): Promise<void> {
    const rule = this.matchers.find((m) => m.matches(repo))?.rule;
    if (!rule || head || !mayBeImage(manifest)) return;
    const known = await this.knownOf(manifest.digest);
    const reasons = known.summary ? this.findings(rule, known.summary) : [];
    const judged = known.summary && (known.withDatabase || rule.severity === undefined);
    if (!judged && rule.unscanned === 'deny' && (await this.isImage(repo, manifest, known))) {
      const why = known.summary ? 'it was scanned without a vulnerability database (set scan.db.updateUrl, or run berth db update on the server)' : `it has not been scanned yet: ${(await scanProgress(this.jobs, manifest.digest)).text}`;
      reasons.unshift(why);
    }
    if (reasons.length === 0) return;
    throw new RegistryError(
      'DENIED',
      `scan policy for "${rule.repos.join(', ')}" (${describe(rule)}) refuses to serve ${repo}@${manifest.digest}: ${reasons.join('; and ')}. ` +
        `The report: GET /berth/v1/repositories/${repo}/manifests/${manifest.digest}/scan`,
      { status: 403, detail: { repository: repo, digest: manifest.digest, policy: rule.repos, ...(known.summary ? { vulnerabilities: known.summary.vulnerabilities, secrets: known.summary.secrets } : {}) } },
    );
  }

  /** Why the result refuses the image under `rule`, each reason naming its worst findings. */
  private findings(rule: ScanRule, s: ScanSummary): string[] {
    const reasons: string[] = [];
    if (rule.severity) {
      const n = countAtLeast(s.vulnerabilities, rule.severity);
      const named = s.worst.vulnerabilities.filter((v) => severityRank(v.severity) >= severityRank(rule.severity!)).slice(0, NAMED);
      if (n > 0) reasons.push(`${n} vulnerabilit${n === 1 ? 'y' : 'ies'} at ${rule.severity} or above (${list(named.map((v) => `${v.id} in ${v.package} ${v.installed} (${v.severity}), ${v.fixed ? `fixed in ${v.fixed}` : 'no fix yet'}`), n)})`);
    }
    const secrets = countAtLeast(s.secrets, 'UNKNOWN');
    if (rule.secrets && secrets > 0) reasons.push(`${secrets} secret(s) in its layers or config (${list(s.worst.secrets.slice(0, NAMED).map((x) => `${x.rule} at ${x.where}`), secrets)}): rotate them and rebuild without them`);
    if (!s.complete) reasons.push('its scan stopped at a limit (scan.maxFiles or scan.maxBytes), so findings may be missing');
    return reasons;
  }

  private async knownOf(digest: Digest): Promise<Known> {
    this.ctx.caches.revalidate();
    const cached = this.known.get(digest);
    if (cached) return cached;
    const epoch = this.ctx.caches.epoch();
    const head = await new ScanQueries(this.ctx.meta.db).head(digest);
    const known: Known = head ? { summary: JSON.parse(head.summary) as ScanSummary, withDatabase: head.dbVersion > 0, image: true } : {};
    this.ctx.caches.fill(this.known, digest, known, epoch);
    return known;
  }

  /** Whether an unscanned manifest is an image to judge (a cosign signature is an image manifest too, over JSON layers). */
  private async isImage(repo: RepoName, manifest: ManifestRow, known: Known): Promise<boolean> {
    if (known.image === undefined) {
      const m = await loadManifest(this.ctx, await this.ctx.requireRepo(repo), manifest.digest);
      // Immutable per digest: kept with what is cached until the entry goes.
      known.image = m !== undefined && isScannableImage(m.bytes, m.row.mediaType);
    }
    return known.image;
  }
}

function describe(rule: ScanRule): string {
  return [rule.severity && `severity: ${rule.severity}`, rule.secrets && 'secrets: refused', `unscanned: ${rule.unscanned}`].filter(Boolean).join(', ');
}

const list = (named: string[], total: number): string => `${named.join('; ')}${total > named.length ? `; and ${total - named.length} more` : ''}`;
