import type { Logger } from 'pino';
import type { RegistryClient } from '../client/registry.js';
import { RemoteError, TagDeleteUnsupportedError } from '../client/errors.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseRepoName, type RepoName, type Tag } from '../oci/name.js';
import type { RegistryContext } from '../registry/context.js';
import type { EventListener, RegistryEvent, SignatureListener } from '../registry/events.js';
import { matchesAny } from '../registry/policy.js';
import { copyImage } from '../transport/copy.js';
import { copiedSubjects, copyAttachments } from '../transport/referrers.js';
import { RegistryAttachments } from '../transport/registry-attachments.js';
import { RemoteSink } from '../transport/remote.js';
import { remoteHost } from './remote.js';
import { RepositoryImages, RepositorySource } from './repository-images.js';
import { attachmentSubject, copiesTag, remoteJobs, type PushRule } from './rules.js';

/**
 * What a push job is about; it reads the repository's state when it runs, so
 * a burst of moves becomes one copy. `deleted`: a manifest deleted by digest
 * here (the tags that went with it have their own jobs).
 */
export type PushJob = { kind: 'tag'; repo: RepoName; tag: Tag } | { kind: 'attached'; repo: RepoName; subject: Digest } | { kind: 'deleted'; repo: RepoName; digest: Digest };

/** Other repositories of the target offered as mount sources for one blob. */
const MOUNT_CANDIDATES = 3;

/**
 * Records, inside the transaction of each push or delete, a job for every
 * rule it concerns: the tag's (pushed, moved, or deleted where deletes
 * propagate), a manifest's deleted by digest (where deletes propagate), or,
 * for a signature or other referrer pushed later, its subject's. Keys make a
 * job already waiting for the same thing cover this one.
 */
export function pushListener(rules: PushRule[], jobs: JobQueue): EventListener {
  return async (event, trx) => {
    for (const rule of rules) {
      const job = jobFor(rule, event);
      if (job) await jobs.enqueue({ queue: rule.queue, key: keyOf(job), payload: job }, trx);
    }
  };
}

/** A simple signature added through the extension after its image: its subject's attachments are copied again. */
export function pushSignatureListener(rules: PushRule[], jobs: JobQueue): SignatureListener {
  return async ({ repository, digest }, trx) => {
    for (const rule of rules) {
      if (!matchesAny(repository, rule.config.repos)) continue;
      const job: PushJob = { kind: 'attached', repo: repository, subject: digest };
      await jobs.enqueue({ queue: rule.queue, key: keyOf(job), payload: job }, trx);
    }
  };
}

function jobFor(rule: PushRule, e: RegistryEvent): PushJob | undefined {
  if (!matchesAny(e.repository, rule.config.repos)) return undefined;
  if (e.tag && copiesTag(rule.config, e.tag)) {
    return e.action === 'push' || rule.config.deletes ? { kind: 'tag', repo: e.repository, tag: e.tag as Tag } : undefined;
  }
  if (e.action === 'delete' && e.tag === undefined) return rule.config.deletes ? { kind: 'deleted', repo: e.repository, digest: e.digest } : undefined;
  const subject = e.subject ?? (e.tag ? attachmentSubject(e.tag) : undefined);
  return e.action === 'push' && subject ? { kind: 'attached', repo: e.repository, subject } : undefined;
}

function keyOf(job: PushJob): string {
  if (job.kind === 'tag') return `tag:${job.repo}:${job.tag}`;
  return job.kind === 'attached' ? `attached:${job.repo}@${job.subject}` : `deleted:${job.repo}@${job.digest}`;
}

/** Copies what a job names from this registry to the rule's target, with everything attached. */
export function pushHandler(rule: PushRule, ctx: RegistryContext, logger: Logger): JobHandler {
  const log = logger.child({ replication: rule.name });
  return remoteJobs<PushJob>(rule, rule.config.to, async (job, client) => {
    const images = new RepositoryImages(ctx, job.repo, `replication:${rule.name}`);
    const there = targetName(rule, job.repo);
    if (job.kind === 'tag') await pushTag(rule, images, client, there, job.tag, log);
    else if (job.kind === 'attached') await pushAttached(images, client, there, job.subject, log);
    else await deleteManifest(client, there, job.digest, log);
  });
}

/** Where a repository lands on the rule's target: the same name under `to.prefix`. */
const targetName = (rule: PushRule, repo: string): RepoName => parseRepoName(`${rule.config.to.prefix}${repo}`);

async function pushTag(rule: PushRule, images: RepositoryImages, client: RegistryClient, target: RepoName, tag: Tag, log: Logger): Promise<void> {
  const here = await images.tagDigest(tag);
  if (here === undefined) {
    if (rule.config.deletes) await deleteTag(client, target, tag, log);
    return;
  }
  const src = new RepositorySource(images, { digest: here }, (_registry, desc) => mountSources(rule, images, desc));
  const dst = new RemoteSink(client, { registry: remoteHost(rule.config.to), repository: target, tag });
  // Already there (a re-run after the attachments failed, or a registry replicating back to this one):
  // a HEAD instead of a copy, and only what is missing of the attachments, so nothing echoes back.
  const there = (await client.resolve(target, tag))?.digest === here;
  const copied = there ? { root: await src.root(), transferred: 0 } : await copyImage(src, dst, { all: true });
  const attached = await copyAttachments(src.attachments(), dst.attachments(), copiedSubjects(copied.root));
  for (const s of attached.skipped) log.warn({ repository: images.repo, tag }, `not replicated: ${s}`);
  log.info({ repository: images.repo, target, tag, digest: here, transferred: copied.transferred, attached }, there ? 'already replicated' : 'replicated');
}

/**
 * A signature or SBOM pushed after its image: copied when the target has
 * the image (else the image's own copy, if the rule covers it, brings it).
 */
async function pushAttached(images: RepositoryImages, client: RegistryClient, target: RepoName, subject: Digest, log: Logger): Promise<void> {
  const here = await images.byDigest(subject).catch(() => undefined);
  if (!here || !(await client.resolve(target, subject))) return;
  const desc: Descriptor = { mediaType: here.mediaType, digest: subject, size: here.bytes.length };
  const attached = await copyAttachments(new RepositorySource(images, { digest: subject }).attachments(), new RegistryAttachments(client, target), [desc]);
  for (const s of attached.skipped) log.warn({ repository: images.repo, subject }, `not replicated: ${s}`);
  log.info({ repository: images.repo, target, subject, attached }, 'replicated attachments');
}

/**
 * The tag is gone here. A registry that cannot delete a tag alone
 * (Distribution 2.8) deletes the manifest the tag names there, with its
 * other tags: the price of mirroring deletes to it.
 */
async function deleteTag(client: RegistryClient, repo: RepoName, tag: Tag, log: Logger): Promise<void> {
  try {
    await client.deleteTag(repo, tag);
  } catch (e) {
    if (e instanceof RemoteError && e.status === 404) return;
    if (!(e instanceof TagDeleteUnsupportedError)) throw e;
    const there = await client.resolve(repo, tag);
    if (there) await client.deleteManifest(repo, there.digest);
  }
  log.info({ repository: repo, tag }, 'replicated delete');
}

/** A manifest deleted by digest here: deleted there too (with any tags the target still gives it), unless it is not there. */
async function deleteManifest(client: RegistryClient, repo: RepoName, digest: Digest, log: Logger): Promise<void> {
  try {
    await client.deleteManifest(repo, digest);
  } catch (e) {
    if (e instanceof RemoteError && e.status === 404) return;
    throw e;
  }
  log.info({ repository: repo, digest }, 'replicated delete');
}

/** Repositories the rule covers here that hold the blob, by their names on the target: it has them too if they were replicated. */
async function mountSources(rule: PushRule, images: RepositoryImages, desc: Descriptor): Promise<string[]> {
  const holding = await images.ctx.meta.repositoriesLinking(desc.digest, 20);
  return holding
    .filter((r) => r !== images.repo && matchesAny(r, rule.config.repos))
    .slice(0, MOUNT_CANDIDATES)
    .map((r) => targetName(rule, r));
}
