import type { Logger } from 'pino';
import type { RegistryClient } from '../client/registry.js';
import type { JobQueue } from '../jobs/queue.js';
import { every } from '../jobs/schedule.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Leases } from '../meta/lease.js';
import { parseRepoName, parseTag, type RepoName, type Tag } from '../oci/name.js';
import type { RegistryContext } from '../registry/context.js';
import { copyImage } from '../transport/copy.js';
import { copiedSubjects, copyAttachments } from '../transport/referrers.js';
import { RegistryAttachments } from '../transport/registry-attachments.js';
import { RemoteSource } from '../transport/remote.js';
import { remoteHost } from './remote.js';
import { attachmentsBehind } from './attachments-behind.js';
import { RepositoryAttachments } from './repository-attachments.js';
import { RepositoryImages, RepositorySink } from './repository-images.js';
import { copiesTag, remoteJobs, type SyncRule } from './rules.js';

/** A sync rule's jobs: look at the upstream's tags, copy one tag that changed there, or what was attached there to a tag that did not change. */
export type SyncJob = { kind: 'plan' } | { kind: 'tag' | 'attached'; repo: RepoName; tag: Tag };

/** Tags of one upstream repository looked at per round; a repository with more is mirrored in part (and the log says so). */
const MAX_TAGS = 10_000;

/**
 * A plan job at start, then one per `interval` across every process sharing
 * the metadata database (src/jobs/schedule.ts: the rule's lease, and its
 * last start recorded). The key makes a plan still waiting cover the next.
 */
export function scheduleSync(rule: SyncRule, jobs: JobQueue, leases: Leases, poke: () => void, logger: Logger): () => void {
  const enqueue = () => jobs.enqueue({ queue: rule.queue, key: 'plan', payload: { kind: 'plan' } satisfies SyncJob }).then(poke);
  const onError = (err: unknown) => logger.warn({ err, replication: rule.name }, 'could not schedule a sync round; trying at the next');
  enqueue().catch(onError);
  return every(jobs.db, leases, { name: `sync:${rule.name}`, intervalMs: rule.config.interval, run: enqueue, onError });
}

export function syncHandler(rule: SyncRule, ctx: RegistryContext, jobs: JobQueue, logger: Logger): JobHandler {
  const log = logger.child({ replication: rule.name });
  return remoteJobs<SyncJob>(rule, rule.config.from, (job, client) => {
    if (job.kind === 'plan') return plan(rule, ctx, client, jobs, log);
    return job.kind === 'tag' ? syncTag(rule, ctx, client, job.repo, job.tag, log) : syncAttached(rule, ctx, client, job.repo, job.tag, log);
  });
}

const localImages = (rule: SyncRule, ctx: RegistryContext, repo: string): RepositoryImages =>
  new RepositoryImages(ctx, parseRepoName(`${rule.config.prefix}${repo}`), `sync:${rule.name}`);

/**
 * Enqueues a copy of every selected tag whose digest upstream (a HEAD, which
 * Docker Hub does not count) differs from ours, and of the attachments of
 * one that did not move when the upstream has some we lack.
 */
async function plan(rule: SyncRule, ctx: RegistryContext, client: RegistryClient, jobs: JobQueue, log: Logger): Promise<void> {
  for (const name of rule.config.repos) {
    const repo = parseRepoName(name);
    const local = localImages(rule, ctx, repo);
    const listed = await client.listTags(repo);
    if (listed.length > MAX_TAGS) log.warn({ repository: repo, tags: listed.length }, `only the first ${MAX_TAGS} tags are mirrored`);
    for (const tag of listed.slice(0, MAX_TAGS).filter((t) => copiesTag(rule.config, t))) {
      const upstream = await client.resolve(repo, tag);
      const unchanged = upstream !== undefined && upstream.digest === (await local.tagDigest(tag));
      if (unchanged && !(await attachmentsBehind(new RegistryAttachments(client, repo), new RepositoryAttachments(local), upstream))) continue;
      const job: SyncJob = { kind: unchanged ? 'attached' : 'tag', repo, tag: parseTag(tag) };
      await jobs.enqueue({ queue: rule.queue, key: `${job.kind}:${repo}:${tag}`, payload: job });
    }
  }
}

async function syncTag(rule: SyncRule, ctx: RegistryContext, client: RegistryClient, repo: RepoName, tag: Tag, log: Logger): Promise<void> {
  const images = localImages(rule, ctx, repo);
  const src = new RemoteSource(client, { registry: remoteHost(rule.config.from), repository: repo, tag });
  const dst = new RepositorySink(images, tag);
  const result = await copyImage(src, dst, { all: true });
  const attached = await copyAttachments(src.attachments(), dst.attachments(), copiedSubjects(result.root));
  log.info({ repository: images.repo, tag, digest: result.root.digest, transferred: result.transferred, attached }, 'synced');
}

/** What is attached upstream to a tag's image (and, for an index, its children) that the mirror lacks. */
async function syncAttached(rule: SyncRule, ctx: RegistryContext, client: RegistryClient, repo: RepoName, tag: Tag, log: Logger): Promise<void> {
  const images = localImages(rule, ctx, repo);
  const root = await images.byTag(tag);
  if (!root) return;
  const attached = await copyAttachments(new RegistryAttachments(client, repo), new RepositoryAttachments(images), copiedSubjects(root));
  log.info({ repository: images.repo, tag, digest: root.digest, attached }, 'synced attachments');
}
