import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { algorithmOf, hexOf, isDigest, makeDigest, parseDigest, type Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { parseManifest, type ManifestFacts } from '../oci/manifest.js';
import { isIndexType, MediaType } from '../oci/mediatypes.js';
import { isTag, parseTag, type RepoName } from '../oci/name.js';
import { ImmutableTagMove, MissingReferences, type DeletedManifest, type DeleteHook, type ManifestRow, type RepoId } from '../meta/metadata.js';
import { deleteAttachmentsOf } from './attachment-cleanup.js';
import { readBounded } from './bounded-body.js';
import { RegistryCaches } from './caches.js';
import type { RegistryContext } from './context.js';
import { checkQuota } from './quota.js';
import { readBlob } from './blobs.js';
import { recordPull, refuseImmutable, refuseImmutableDelete } from './tag-rules.js';
import { originOf, type Origin, type RegistryEvent } from './events.js';

export interface StoredManifest {
  row: ManifestRow;
  bytes: Buffer;
}

export interface PushResult {
  digest: Digest;
  subject?: Digest;
  tags: string[];
}

/** Bigger manifests are streamed to clients, not held in memory (see manifestBody). */
const MAX_HELD_MANIFEST = 1 << 20;

/** A manifest reference from a URL: a digest, or else a tag. */
export type ManifestRef = { digest: Digest } | { tag: string };

/** Parses the `<reference>` of a manifest URL. An invalid tag can name nothing: 404 on reads, 400 on a push. */
export function parseManifestRef(value: string, forPush: boolean): ManifestRef {
  if (value.includes(':')) return { digest: parseDigest(value) };
  if (!forPush && !isTag(value)) throw unknownManifest({ tag: value.slice(0, 150) });
  return { tag: parseTag(value) };
}

/** Reads a manifest body, refusing (413) anything over the configured limit before buffering it. */
export function readManifestBody(ctx: RegistryContext, body: Readable, declaredLength: number | undefined): Promise<Buffer> {
  return readBounded(body, declaredLength, ctx.limits.maxManifestBytes, 'manifest');
}

/**
 * Accepts a manifest: verifies its digest when pushed by digest, validates
 * it, checks every blob and child manifest it names is in this repository,
 * stores the bytes exactly as given, and points the tags at it.
 */
export async function putManifest(
  ctx: RegistryContext,
  repo: RepoName,
  ref: ManifestRef,
  bytes: Buffer,
  contentType: string | undefined,
  extraTags: string[],
  origin: Origin,
): Promise<PushResult> {
  const { actor } = origin;
  const digest = 'digest' in ref ? ref.digest : makeDigest('sha256', sha(bytes, 'sha256'));
  if ('digest' in ref && sha(bytes, algorithmOf(digest)) !== hexOf(digest)) {
    throw new RegistryError('DIGEST_INVALID', `manifest content does not match digest ${digest}`, { detail: { digest } });
  }
  const tags = 'tag' in ref ? [ref.tag] : extraTags.map((t) => parseTag(t));
  const facts = parseManifest(bytes, contentType);
  await ctx.gates.checkTags(repo, tags, digest, facts.mediaType);
  await checkQuota(ctx, repo, digest, bytes.length);
  const now = ctx.now();
  const event: RegistryEvent = { action: 'push', target: 'manifest', repository: repo, digest, mediaType: facts.mediaType, size: bytes.length, artifactType: facts.artifactType ?? null, subject: facts.subject?.digest ?? null, ...originOf(origin), at: now };
  const inTransaction = ctx.events.hook('manifest', () => (tags.length ? tags.map((tag) => ({ ...event, tag })) : [event]));
  let repoId: RepoId;
  try {
    repoId = await ctx.withRepo(repo, async (id) => {
      await ctx.meta.putManifest(id, toNewManifest(digest, bytes.length, facts), tags, now, actor, {
        // Bytes before commit (metadata never points at content the store lacks), after the claim GC respects.
        storeBytes: () => ctx.store.put(digest, bytes),
        isImmutable: (tag) => ctx.policy.isImmutable(repo, tag),
        ...(inTransaction ? { inTransaction } : {}),
      });
      return id;
    });
  } catch (e) {
    if (e instanceof MissingReferences) throw missingReferences(e);
    if (e instanceof ImmutableTagMove) throw refuseImmutable(repo, e.tag, e.current);
    throw e;
  }
  ctx.caches.manifestBytes.set(digest, bytes);
  for (const t of tags) ctx.caches.forgetTag(repoId, t);
  ctx.caches.forgetManifest(repoId, digest);
  const result: PushResult = { digest, tags };
  if (facts.subject) result.subject = facts.subject.digest;
  return result;
}

/** A manifest to serve: its facts, and its exact bytes (held when small, streamed from the store when not). */
export interface ServedManifest {
  row: ManifestRow;
  body(): Promise<Buffer | Readable>;
}

export async function getManifest(ctx: RegistryContext, repo: RepoName, ref: ManifestRef, accept: string[], head = false, origin?: Origin): Promise<ServedManifest> {
  const repoId = await ctx.repoId(repo);
  if (repoId === undefined) throw new RegistryError('NAME_UNKNOWN', `repository "${repo}" is not known to this registry`);
  const digest = 'digest' in ref ? ref.digest : await resolveTag(ctx, repoId, ref.tag);
  const found = await manifestRow(ctx, repoId, digest);
  if (!found) throw unknownManifest(ref);
  const row = await negotiate(ctx, repoId, found, accept);
  await ctx.gates.checkPull(repo, row, head);
  await recordPull(ctx, repoId, digest);
  // A HEAD is a pull too, as Distribution tells it.
  if (origin && ctx.events.pullsWanted) {
    const event: RegistryEvent = { action: 'pull', target: 'manifest', repository: repo, digest: row.digest, mediaType: row.mediaType, size: row.size, artifactType: row.artifactType, subject: row.subject, ...originOf(origin), at: ctx.now() };
    ctx.events.pulled('tag' in ref ? { ...event, tag: ref.tag } : event);
  }
  return { row, body: () => manifestBody(ctx, row) };
}


/**
 * A manifest's bytes for a response. Up to MAX_HELD_MANIFEST they are held
 * (and cached); a bigger one, which only an unusual or hostile client
 * pushes, is streamed from the store, so forty of them pulled at once cost
 * no more memory than forty small ones.
 */
async function manifestBody(ctx: RegistryContext, row: ManifestRow): Promise<Buffer | Readable> {
  // `has`, not `get`: manifestBytes looks it up (and counts the lookup) once.
  if (row.size > MAX_HELD_MANIFEST && !ctx.caches.manifestBytes.has(row.digest)) return readBlob(ctx, { digest: row.digest, size: row.size });
  return manifestBytes(ctx, row);
}

export async function deleteManifest(ctx: RegistryContext, repo: RepoName, ref: ManifestRef, origin: Origin): Promise<void> {
  const { actor } = origin;
  const repoId = await ctx.repoId(repo);
  if (repoId === undefined) throw new RegistryError('NAME_UNKNOWN', `repository "${repo}" is not known to this registry`);
  const now = ctx.now();
  await refuseImmutableDelete(ctx, repo, repoId, ref);
  if ('tag' in ref) {
    const hook = deleteHook(ctx, repo, now, origin, true);
    const removed = await ctx.meta.deleteTag(repoId, ref.tag, now, actor, hook);
    ctx.caches.forgetTag(repoId, ref.tag);
    if (!removed) throw unknownManifest(ref);
    return;
  }
  const tags = await ctx.meta.deleteManifest(repoId, ref.digest, now, actor, deleteHook(ctx, repo, now, origin, false));
  ctx.caches.forgetManifest(repoId, ref.digest);
  if (!tags) throw unknownManifest(ref);
  for (const t of tags) ctx.caches.forgetTag(repoId, t);
  await deleteAttachmentsOf(ctx, repoId, ref.digest, actor);
}

/**
 * Delete events as Distribution tells them: a tag delete is one event with
 * the tag; a delete by digest is one for the manifest, then one per tag that
 * went with it.
 */
function deleteHook(ctx: RegistryContext, repo: RepoName, now: number, origin: Origin, byTag: boolean): DeleteHook | undefined {
  return ctx.events.hook('manifest', ({ tags, ...facts }: DeletedManifest) => {
    const event: RegistryEvent = { action: 'delete', target: 'manifest', repository: repo, ...facts, ...originOf(origin), at: now };
    const tagEvents = tags.map((tag) => ({ ...event, tag }));
    return byTag ? tagEvents : [event, ...tagEvents];
  });
}

export async function resolveTag(ctx: RegistryContext, repoId: RepoId, tag: string): Promise<Digest> {
  const key = RegistryCaches.key(repoId, tag);
  ctx.caches.revalidate();
  const cached = ctx.caches.tags.get(key);
  if (cached) return cached;
  const epoch = ctx.caches.epoch();
  const digest = await ctx.meta.resolveTag(repoId, tag);
  if (!digest) throw unknownManifest({ tag });
  ctx.caches.fill(ctx.caches.tags, key, digest, epoch);
  return digest;
}

export async function loadManifest(ctx: RegistryContext, repoId: RepoId, digest: Digest): Promise<StoredManifest | undefined> {
  const row = await manifestRow(ctx, repoId, digest);
  return row && { row, bytes: await manifestBytes(ctx, row) };
}

async function manifestRow(ctx: RegistryContext, repoId: RepoId, digest: Digest): Promise<ManifestRow | undefined> {
  const key = RegistryCaches.key(repoId, digest);
  ctx.caches.revalidate();
  const cached = ctx.caches.manifests.get(key);
  if (cached) return cached;
  const epoch = ctx.caches.epoch();
  const row = await ctx.meta.manifest(repoId, digest);
  if (row) ctx.caches.fill(ctx.caches.manifests, key, row, epoch);
  return row;
}

/** The bytes, from the cache or read whole from the store (in turns with other big reads: ctx.manifestMemory). */
async function manifestBytes(ctx: RegistryContext, row: ManifestRow): Promise<Buffer> {
  const cached = ctx.caches.manifestBytes.get(row.digest);
  if (cached) return cached;
  const bytes = await ctx.manifestMemory.use(row.size, async () => readAll(await readBlob(ctx, { digest: row.digest, size: row.size })));
  ctx.caches.manifestBytes.set(row.digest, bytes);
  return bytes;
}

/**
 * Serves the manifest as stored, with one concession to older Docker
 * clients: one that cannot take an index (its Accept lists image manifest
 * types only) gets the linux/amd64 child, as Distribution does.
 */
async function negotiate(ctx: RegistryContext, repoId: RepoId, row: ManifestRow, accept: string[]): Promise<ManifestRow> {
  if (!isIndexType(row.mediaType) || accept.length === 0) return row;
  if (accept.some((a) => a === row.mediaType || a === '*/*' || a === 'application/*')) return row;
  const wantsImage = accept.includes(MediaType.dockerManifest) || accept.includes(MediaType.ociManifest);
  if (!wantsImage) return row;
  const index = JSON.parse((await manifestBytes(ctx, row)).toString('utf8')) as { manifests?: { digest?: string; platform?: { os?: string; architecture?: string } }[] };
  const child = index.manifests?.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64');
  if (!child?.digest || !isDigest(child.digest)) return row;
  const resolved = await manifestRow(ctx, repoId, child.digest);
  return resolved && accept.includes(resolved.mediaType) ? resolved : row;
}

function toNewManifest(digest: Digest, size: number, facts: ManifestFacts) {
  return {
    digest,
    mediaType: facts.mediaType,
    size,
    artifactType: facts.artifactType ?? null,
    subject: facts.subject?.digest ?? null,
    annotations: facts.annotations ?? null,
    blobs: facts.blobs.map((b) => b.digest),
    children: facts.manifests.map((m) => m.digest),
  };
}

function missingReferences(e: MissingReferences): RegistryError {
  const all = [...e.blobs, ...e.manifests];
  const what = e.blobs.length ? 'blob' : 'manifest';
  return new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${all.length} ${what}(s) not in this repository, first ${all[0]}`, {
    detail: { blobs: e.blobs, manifests: e.manifests },
  });
}

function unknownManifest(ref: ManifestRef): RegistryError {
  const what = 'tag' in ref ? `tag "${ref.tag}"` : ref.digest;
  return new RegistryError('MANIFEST_UNKNOWN', `manifest ${what} is not in this repository`, { detail: ref });
}

const sha = (bytes: Buffer, alg: string): string => createHash(alg).update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
