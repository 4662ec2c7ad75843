import { LRUCache } from 'lru-cache';
import picomatch from 'picomatch';
import type { Digest } from '../oci/digest.js';
import { isObject } from '../oci/descriptor.js';
import { RegistryError } from '../oci/errors.js';
import { isIndexType, MediaType } from '../oci/mediatypes.js';
import type { RepoName } from '../oci/name.js';
import type { ManifestRow, RepoId } from '../meta/metadata.js';
import { SignatureQueries } from '../meta/signature-queries.js';
import { findSignatures } from '../sign/gather.js';
import { SignatureMediaType } from '../sign/media-types.js';
import { digestTag, isAttachmentTag, signatureTag } from '../sign/tags.js';
import { checkSignatures, type TrustedKeys } from '../sign/verify.js';
import type { RegistryContext } from './context.js';
import type { PullGate, TagGate } from './gates.js';
import { loadManifest } from './manifests.js';
import { RegistrySignatureSource } from './signature-source.js';

export interface SignatureRule {
  /** The `repos` globs as written, to name the rule in refusals. */
  repos: string[];
  keys: TrustedKeys;
  enforce: 'pull' | 'push';
}

interface Verdict {
  /** What the signatures looked like when judged; a different one means they changed. */
  state: string;
  valid: number;
  found: number;
}

/** Verdicts are a few dozen bytes; this bounds the cache whatever the registry's size. */
const VERDICT_CACHE_BYTES = 8 << 20;
/** Indexes of the same repository consulted for a child manifest's trust. */
const MAX_PARENTS = 10;
const ARTIFACT_LAYERS: ReadonlySet<string> = new Set([
  SignatureMediaType.cosignPayload,
  SignatureMediaType.dsseEnvelope,
  SignatureMediaType.bundleV03,
  SignatureMediaType.simpleSigningLayer,
]);
const RUNNABLE_CONFIGS: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);

/**
 * `policy.signatures` of berth.yaml: for repositories matching a rule, a
 * manifest is served (`enforce: pull`) or tagged (`enforce: push`) only with
 * a valid signature by one of the rule's keys over its digest. What is
 * checked is key and digest: identity is the pulling client's business (a
 * copied image keeps its signatures under another name).
 *
 * Verdicts are cached per digest together with the state of its signatures
 * (the `.sig` and referrers tags, the referrers and extension signatures:
 * counts and newest times), read fresh on each check, so a new signature
 * counts on the next pull on every replica; the tag lookups go through the
 * registry's caches, which the change feed keeps current.
 */
export class SignaturePolicy {
  private readonly matchers: { rule: SignatureRule; matches: (repo: string) => boolean }[];
  private readonly verdicts = new LRUCache<string, Verdict>({ maxSize: VERDICT_CACHE_BYTES, sizeCalculation: (v, k) => k.length + v.state.length + 48 });

  constructor(
    readonly ctx: RegistryContext,
    rules: SignatureRule[],
  ) {
    this.matchers = rules.map((rule) => ({ rule, matches: picomatch(rule.repos, { dot: true }) }));
  }

  /** Registers the gates the rules need. */
  install(): void {
    policies.set(this.ctx, this);
    if (this.matchers.some((m) => m.rule.enforce === 'pull')) this.ctx.gates.pull.push(new SignaturePullGate(this));
    if (this.matchers.some((m) => m.rule.enforce === 'push')) this.ctx.gates.tag.push(new SignatureTagGate(this));
  }

  /** Every key some rule for `repo` trusts: what the signatures API judges by. */
  keysFor(repo: RepoName): TrustedKeys {
    const rules = this.matchers.filter((m) => m.matches(repo)).map((m) => m.rule.keys);
    return { cosign: rules.flatMap((k) => k.cosign), gpg: rules.flatMap((k) => k.gpg) };
  }

  ruleFor(repo: RepoName, enforce: SignatureRule['enforce']): SignatureRule | undefined {
    return this.matchers.find((m) => m.rule.enforce === enforce && m.matches(repo))?.rule;
  }

  /** Throws DENIED unless `digest`, or an index of the repository that lists it, carries a valid signature by the rule's keys. */
  async require(repo: RepoName, repoId: RepoId, digest: Digest, rule: SignatureRule, doing: string): Promise<void> {
    const own = await this.verdict(repo, repoId, digest, rule);
    if (own.valid > 0) return;
    for (const parent of await this.parents(repoId, digest)) if ((await this.verdict(repo, repoId, parent, rule)).valid > 0) return;
    const seen = own.found === 0 ? 'it has no signatures' : `none of its ${own.found} signature(s) verifies with the policy's keys`;
    throw new RegistryError(
      'DENIED',
      `signature policy for "${rule.repos.join(', ')}" (enforce: ${rule.enforce}) refuses to ${doing} ${repo}@${digest}: ${seen}. ` +
        `Sign it by digest with a trusted key (berth sign --key cosign.key REGISTRY/${repo}@${digest}, or skopeo copy --sign-by FINGERPRINT), then ${rule.enforce === 'push' ? 'tag it' : 'pull again'}`,
      { status: 403, detail: { repository: repo, digest, policy: rule.repos, enforce: rule.enforce } },
    );
  }

  private async verdict(repo: RepoName, repoId: RepoId, digest: Digest, rule: SignatureRule): Promise<Verdict> {
    const source = new RegistrySignatureSource(this.ctx, repo, repoId);
    const state = await this.stateOf(source, repoId, digest);
    const key = `${this.matchers.findIndex((m) => m.rule === rule)}\u0000${repoId}\u0000${digest}`;
    const cached = this.verdicts.get(key);
    if (cached?.state === state) return cached;
    const subject = { mediaType: MediaType.ociManifest, digest, size: 0 };
    const checks = await checkSignatures(await findSignatures(source, subject), rule.keys, { digest });
    const verdict: Verdict = { state, valid: checks.filter((c) => c.outcome === 'valid').length, found: checks.length };
    this.verdicts.set(key, verdict);
    return verdict;
  }

  private async stateOf(source: RegistrySignatureSource, repoId: RepoId, digest: Digest): Promise<string> {
    const q = new SignatureQueries(this.ctx.meta.db);
    return [
      (await source.tagDigest(signatureTag(digest))) ?? '-',
      (await source.tagDigest(digestTag(digest))) ?? '-',
      await q.referrerState(repoId, digest),
      await q.state(repoId, digest),
    ].join('|');
  }

  private async parents(repoId: RepoId, digest: Digest): Promise<Digest[]> {
    const rows = await this.ctx.meta.db
      .selectFrom('manifest_refs')
      .select('manifest_digest')
      .where('repository_id', '=', repoId)
      .where('ref_digest', '=', digest)
      .where('kind', '=', 'manifest')
      .limit(MAX_PARENTS)
      .execute();
    return rows.map((r) => r.manifest_digest as Digest);
  }

  /**
   * Whether a manifest is something to run (an image, or an index of images)
   * rather than what clients need to verify one: signatures, bundles,
   * attestations, SBOMs and other artifacts stay readable.
   */
  async needsSignature(repoId: RepoId, row: ManifestRow): Promise<boolean> {
    if (row.subject) return false;
    const m = await loadManifest(this.ctx, repoId, row.digest);
    if (!m) return true;
    const json: unknown = JSON.parse(m.bytes.toString('utf8'));
    if (!isObject(json)) return true;
    if (isIndexType(row.mediaType)) return Array.isArray(json.manifests) && json.manifests.some((d) => isObject(d) && d.artifactType === undefined);
    const config = isObject(json.config) ? json.config.mediaType : undefined;
    const layers = Array.isArray(json.layers) ? json.layers : [];
    return typeof config === 'string' && RUNNABLE_CONFIGS.has(config) && !layers.some((l) => isObject(l) && typeof l.mediaType === 'string' && ARTIFACT_LAYERS.has(l.mediaType));
  }
}

const policies = new WeakMap<RegistryContext, SignaturePolicy>();

/** The signature policy `berth serve` installed on `ctx`, if any. */
export const signaturePolicyOf = (ctx: RegistryContext): SignaturePolicy | undefined => policies.get(ctx);

class SignaturePullGate implements PullGate {
  readonly name = 'signature policy (pull)';
  constructor(private readonly policy: SignaturePolicy) {}

  async checkPull(repo: RepoName, manifest: ManifestRow, head: boolean): Promise<void> {
    const rule = this.policy.ruleFor(repo, 'pull');
    // A HEAD serves no content; it is how signers (cosign, berth sign) learn the digest they are to sign.
    if (!rule || head) return;
    const repoId = await this.policy.ctx.requireRepo(repo);
    if (!(await this.policy.needsSignature(repoId, manifest))) return;
    await this.policy.require(repo, repoId, manifest.digest, rule, 'serve');
  }
}

class SignatureTagGate implements TagGate {
  readonly name = 'signature policy (push)';
  constructor(private readonly policy: SignaturePolicy) {}

  async checkTag(repo: RepoName, tag: string, digest: Digest): Promise<void> {
    const rule = this.policy.ruleFor(repo, 'push');
    // cosign's and the referrers tags hold signatures: they must stay writable, or nothing could ever be signed.
    if (!rule || isAttachmentTag(tag)) return;
    const repoId = await this.policy.ctx.repoId(repo);
    if (repoId === undefined) return this.refuseUnstored(repo, digest, rule);
    const row = await this.policy.ctx.meta.manifest(repoId, digest);
    if (row && !(await this.policy.needsSignature(repoId, row))) return;
    await this.policy.require(repo, repoId, digest, rule, `tag "${tag}" onto`);
  }

  private refuseUnstored(repo: RepoName, digest: Digest, rule: SignatureRule): never {
    throw new RegistryError('DENIED', `signature policy for "${rule.repos.join(', ')}" (enforce: push) refuses a tag onto ${repo}@${digest}: it has no signatures. Push by digest, sign it (berth sign --key cosign.key REGISTRY/${repo}@${digest}), then tag it`, { status: 403 });
  }
}
