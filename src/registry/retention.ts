import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';
import type { RepoId } from '../meta/metadata.js';
import { GcQueries } from '../meta/gc-queries.js';
import type { RegistryContext } from './context.js';
import { deleteAttachmentsOf } from './attachment-cleanup.js';
import { matchesAny, type RetentionRule } from './policy.js';

export const RETENTION_ACTOR = 'berth-retention';

export interface RetentionAction {
  repository: string;
  tag: string;
  digest: Digest;
  updatedAt: number;
  /** Whether the tag was (or in a dry run, would be) removed. */
  done: boolean;
}

const REPOSITORY_PAGE = 500;

interface TagRow {
  name: string;
  digest: Digest;
  updatedAt: number;
}

/**
 * Applies the retention rules: a tag goes when some rule for its repository
 * selects it and no rule keeps it by pattern; immutable tags never go. A
 * manifest left with no tag (and no index naming it) goes with its last tag.
 * Each delete is conditioned on the tag still pointing where it did when
 * planned, so a tag moved meanwhile is left alone.
 */
export async function applyRetention(ctx: RegistryContext, dryRun: boolean): Promise<RetentionAction[]> {
  if (ctx.policy.settings.retention.length === 0) return [];
  const gc = new GcQueries(ctx.meta.db);
  const actions: RetentionAction[] = [];
  for await (const repo of repositoriesByName(ctx)) {
    const rules = ctx.policy.retentionFor(repo.name);
    if (rules.length === 0) continue;
    const repoId = Number(repo.id) as RepoId;
    const tags = await tagsByRecency(ctx, repoId);
    for (const t of planDeletes(tags, rules, ctx.now())) {
      if (ctx.policy.isImmutable(repo.name as RepoName, t.name)) continue;
      const done = dryRun ? false : await gc.deleteTagIf(repoId, t.name, t.digest, ctx.now(), RETENTION_ACTOR);
      if (done) {
        ctx.caches.forgetTag(repoId, t.name);
        if (await gc.deleteUntagged(repoId, t.digest, ctx.now() - ctx.policy.settings.gc.graceMs)) {
          ctx.caches.forgetManifest(repoId, t.digest);
          await deleteAttachmentsOf(ctx, repoId, t.digest, RETENTION_ACTOR);
        }
      }
      if (dryRun || done) actions.push({ repository: repo.name, tag: t.name, digest: t.digest, updatedAt: t.updatedAt, done });
    }
  }
  return actions;
}

/** Every repository, a page at a time: a registry's every name at once would grow with it. */
async function* repositoriesByName(ctx: RegistryContext): AsyncIterable<{ id: number; name: string }> {
  let after = '';
  for (;;) {
    const page = await ctx.meta.db.selectFrom('repositories').select(['id', 'name']).where('name', '>', after).orderBy('name').limit(REPOSITORY_PAGE).execute();
    for (const r of page) yield { id: Number(r.id), name: r.name };
    if (page.length < REPOSITORY_PAGE) return;
    after = page[page.length - 1]!.name;
  }
}

/** Tags some rule selects: beyond its `keepLast` newest and older than its `olderThan`, not kept by pattern. */
export function planDeletes(tags: TagRow[], rules: RetentionRule[], now: number): TagRow[] {
  const keepTags = rules.flatMap((r) => r.keepTags);
  return tags.filter((t, rank) => {
    if (matchesAny(t.name, keepTags)) return false;
    return rules.some((r) => {
      if (r.keepLast === undefined && r.olderThanMs === undefined) return false;
      if (r.keepLast !== undefined && rank < r.keepLast) return false;
      return r.olderThanMs === undefined || now - t.updatedAt > r.olderThanMs;
    });
  });
}

async function tagsByRecency(ctx: RegistryContext, repoId: RepoId): Promise<TagRow[]> {
  const rows = await ctx.meta.db
    .selectFrom('tags')
    .select(['name', 'digest', 'updated_at'])
    .where('repository_id', '=', repoId)
    .orderBy('updated_at', 'desc')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, digest: r.digest as Digest, updatedAt: Number(r.updated_at) }));
}
