import type { Kysely, Transaction } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';
import type { UploadId } from '../store/blob-store.js';
import type { Database } from './schema.js';

export type RepoId = number & { readonly __brand: 'RepoId' };

export interface UploadRow {
  id: UploadId;
  repositoryId: RepoId;
  size: number;
  createdAt: number;
  updatedAt: number;
}

/** Who opens an upload session: the user (null: anonymous) and the client address. */
export interface UploadOrigin {
  owner: string | null;
  client: string;
}

/** A manifest's facts, without its annotations (up to the manifest size each): only the referrers API needs those. */
export interface ManifestRow {
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: Digest | null;
  createdAt: number;
}

/** A referrer as the referrers API lists it; `annotationChars` says how big its annotations are before loading them. */
export interface ReferrerRow extends ManifestRow {
  annotationChars: number;
}

/** Where a page of referrers ends: they are ordered by push time, then digest. */
export interface ReferrerCursor {
  createdAt: number;
  digest: Digest;
}

export interface NewManifest {
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: Digest | null;
  annotations: Record<string, string> | null;
  blobs: Digest[];
  children: Digest[];
}

export interface BlobLink {
  size: number;
  lastAccessAt: number;
}

/** Options for a manifest push that are policy, not facts. */
export interface PutManifestOptions {
  /** Called once the manifest's `blobs` row is claimed, before the transaction: stores the bytes durably (see GC's race notes in src/meta/gc-queries.ts). */
  storeBytes: () => Promise<void>;
  /** Tags that may be created but never moved to another digest. */
  isImmutable?: (tag: string) => boolean;
  /** Last thing in the transaction: what must commit with the push or not at all (events, jobs). */
  inTransaction?: (trx: Transaction<Database>) => Promise<void>;
  /** A pull-through cache stores a manifest before it fetches what the manifest names, so absent references are not refused. */
  referencesMayBeAbsent?: boolean;
}

/** What a delete removed, for whatever must commit with it (events, jobs). */
export interface DeletedManifest {
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: Digest | null;
  /** The tags that went (a tag delete: that one). */
  tags: string[];
}

export type DeleteHook = (trx: Transaction<Database>, deleted: DeletedManifest) => Promise<void>;

/** What must commit with a change or not at all (events, jobs), with what the change found out. */
export type TransactionHook<A extends unknown[] = []> = (trx: Transaction<Database>, ...args: A) => Promise<void>;

/** Thrown inside a transaction when a push would move an immutable tag. */
export class ImmutableTagMove extends Error {
  constructor(readonly tag: string, readonly current: Digest) {
    super(`tag ${tag} is immutable`);
  }
}

/** GC swept a blob's row between its claim and its link (a store step longer than the grace period): nothing was linked. */
export class ClaimLost extends Error {
  constructor(readonly digest: Digest) {
    super(`blob ${digest} was collected while it was being committed`);
  }
}

/** Thrown inside a transaction to roll it back and report what a manifest lacks. */
export class MissingReferences extends Error {
  constructor(readonly blobs: Digest[], readonly manifests: Digest[]) {
    super('manifest references unknown content');
  }
}

type Db = Kysely<Database> | Transaction<Database>;

/** Every query Berth makes, in one dialect-neutral place (SQLite and PostgreSQL). */
export class Metadata {
  /** `reader` serves the hot reads outside transactions (see MetaDb.reader); everything else goes to `db`. */
  constructor(
    readonly db: Kysely<Database>,
    readonly reader: Kysely<Database> = db,
    /**
     * Resolves once every commit made so far is durable on disk: with SQLite
     * (synchronous=NORMAL, no fsync at commit) a grouped fsync of the WAL,
     * so concurrent pushes share one before any of them is acknowledged;
     * PostgreSQL's commit is durable by itself.
     */
    readonly durable: () => Promise<void> = async () => {},
  ) {}

  // Repositories

  async repositoryId(name: RepoName): Promise<RepoId | undefined> {
    const row = await this.reader.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
    return row ? (Number(row.id) as RepoId) : undefined;
  }

  async ensureRepository(name: RepoName, now: number): Promise<RepoId> {
    await this.db
      .insertInto('repositories')
      .values({ name, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.repositoryId(name))!;
  }

  /** Repositories holding at least one manifest, in lexical order after `last`. */
  async repositories(limit: number, last?: string): Promise<string[]> {
    let q = this.reader
      .selectFrom('repositories')
      .select('name')
      .where((eb) => eb.exists(eb.selectFrom('manifests').select('digest').whereRef('manifests.repository_id', '=', 'repositories.id')))
      .orderBy('name')
      .limit(limit);
    if (last !== undefined) q = q.where('name', '>', last);
    return (await q.execute()).map((r) => r.name);
  }

  // Uploads

  async createUpload(id: UploadId, repositoryId: RepoId, now: number, origin: UploadOrigin): Promise<void> {
    await this.db
      .insertInto('uploads')
      .values({ id, repository_id: repositoryId, size: 0, owner: origin.owner, client: origin.client, created_at: now, updated_at: now })
      .execute();
  }

  /** Open sessions of a user, or of an address for anonymous clients. */
  async openUploads(origin: UploadOrigin): Promise<number> {
    let q = this.db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n'));
    q = origin.owner !== null ? q.where('owner', '=', origin.owner) : q.where('owner', 'is', null).where('client', '=', origin.client);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async upload(id: UploadId): Promise<UploadRow | undefined> {
    const r = await this.reader.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id as UploadId,
      repositoryId: Number(r.repository_id) as RepoId,
      size: Number(r.size),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  }

  /**
   * Claims the upload for one chunk write at `at` bytes: refused while another
   * live claim exists or the size moved, so two requests (on any replicas)
   * never write the same session's bytes at once.
   */
  async claimUpload(id: UploadId, at: number, writer: string, now: number, until: number): Promise<boolean> {
    const r = await this.db
      .updateTable('uploads')
      .set({ writer, writer_until: until, updated_at: now })
      .where('id', '=', id)
      .where('size', '=', at)
      .where((eb) => eb.or([eb('writer', 'is', null), eb('writer_until', '<', now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async renewUploadClaim(id: UploadId, writer: string, until: number): Promise<void> {
    await this.db.updateTable('uploads').set({ writer_until: until }).where('id', '=', id).where('writer', '=', writer).execute();
  }

  async releaseUploadClaim(id: UploadId, writer: string): Promise<void> {
    await this.db.updateTable('uploads').set({ writer: null, writer_until: null }).where('id', '=', id).where('writer', '=', writer).execute();
  }

  /** Compare-and-set on the accepted size by the claim holder, which also ends the claim. */
  async advanceUpload(id: UploadId, from: number, to: number, now: number, writer: string): Promise<boolean> {
    const r = await this.db
      .updateTable('uploads')
      .set({ size: to, updated_at: now, writer: null, writer_until: null })
      .where('id', '=', id)
      .where('size', '=', from)
      .where('writer', '=', writer)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteUpload(id: UploadId): Promise<boolean> {
    const r = await this.db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async staleUploads(updatedBefore: number, limit: number): Promise<UploadId[]> {
    const rows = await this.db.selectFrom('uploads').select('id').where('updated_at', '<', updatedBefore).limit(limit).execute();
    return rows.map((r) => r.id as UploadId);
  }

  // Blobs

  /**
   * Records a verified blob, links it to the repository and ends the upload.
   * The claim on the `blobs` row commits first, on its own; `storeBytes`
   * then makes the bytes visible and durable in the store outside any
   * transaction (with SQLite a transaction holds the one writer connection,
   * and every commit would wait on the fsyncs of the one before); the link
   * commits last. A GC sweep of the same digest either finished (bytes
   * deleted) before the claim, or spares the freshly claimed row until the
   * link holds it (src/meta/gc-queries.ts). Only a store step longer than the
   * grace period could lose the claim: then the row is gone at link time and
   * ClaimLost says so, with nothing linked.
   */
  async commitBlob(repositoryId: RepoId, digest: Digest, size: number, now: number, uploadId?: UploadId, storeBytes?: () => Promise<void>, inTransaction?: TransactionHook): Promise<void> {
    await claimBlob(this.db, digest, size, now);
    if (storeBytes) await storeBytes();
    await this.db.transaction().execute(async (trx) => {
      await holdClaim(trx, digest, now);
      await link(trx, repositoryId, digest, now);
      if (uploadId) await trx.deleteFrom('uploads').where('id', '=', uploadId).execute();
      await inTransaction?.(trx);
    });
    await this.durable();
  }

  /** Cross-repository mount: links a blob the store already holds. Resolves to its size, or undefined. */
  async mountBlob(repositoryId: RepoId, digest: Digest, now: number, inTransaction?: TransactionHook<[size: number]>): Promise<number | undefined> {
    const size = await this.db.transaction().execute(async (trx) => {
      // UPDATE first: it takes the row lock GC's sweep needs, so the row (and its bytes) cannot go while we link.
      const claimed = await trx.updateTable('blobs').set({ linked_at: now }).where('digest', '=', digest).executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return undefined;
      const blob = await trx.selectFrom('blobs').select('size').where('digest', '=', digest).executeTakeFirstOrThrow();
      await link(trx, repositoryId, digest, now);
      await inTransaction?.(trx, Number(blob.size));
      return Number(blob.size);
    });
    // A mount is acknowledged (201) like an upload: its link durable first.
    if (size !== undefined) await this.durable();
    return size;
  }

  async blobLink(repositoryId: RepoId, digest: Digest): Promise<BlobLink | undefined> {
    const r = await this.reader
      .selectFrom('repository_blobs')
      .innerJoin('blobs', 'blobs.digest', 'repository_blobs.digest')
      .select(['blobs.size', 'repository_blobs.last_access_at'])
      .where('repository_blobs.repository_id', '=', repositoryId)
      .where('repository_blobs.digest', '=', digest)
      .executeTakeFirst();
    return r ? { size: Number(r.size), lastAccessAt: Number(r.last_access_at) } : undefined;
  }

  /** Repositories that link a blob, for a mount without `from`. */
  async repositoriesLinking(digest: Digest, limit: number): Promise<RepoName[]> {
    const rows = await this.db
      .selectFrom('repository_blobs')
      .innerJoin('repositories', 'repositories.id', 'repository_blobs.repository_id')
      .select('repositories.name')
      .where('repository_blobs.digest', '=', digest)
      .orderBy('repositories.name')
      .limit(limit)
      .execute();
    return rows.map((r) => r.name as RepoName);
  }

  /** Refreshes a link's access time; false when the link is gone (GC may have swept it since it was read). */
  async touchBlobLink(repositoryId: RepoId, digest: Digest, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('repository_blobs')
      .set({ last_access_at: now })
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Notes a blob that could not be served as indexed, for `berth fsck` (the first reason is kept). */
  async noteSuspect(digest: Digest, reason: string, now: number): Promise<void> {
    await this.db.insertInto('suspect_blobs').values({ digest, reason, noted_at: now }).onConflict((oc) => oc.column('digest').doNothing()).execute();
  }

  async unlinkBlob(repositoryId: RepoId, digest: Digest, inTransaction?: TransactionHook<[size: number]>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('repository_blobs')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) return false;
      if (inTransaction) {
        const blob = await trx.selectFrom('blobs').select('size').where('digest', '=', digest).executeTakeFirst();
        await inTransaction(trx, Number(blob?.size ?? 0));
      }
      return true;
    });
  }

  // Manifests and tags

  /**
   * Stores a manifest's facts and points `tags` at it, after checking, inside
   * the same transaction, that everything it references is in the repository.
   * The manifest row is written first so that a SQLite transaction takes the
   * write lock at once (no lock upgrade that could fail under a second process).
   */
  async putManifest(repositoryId: RepoId, m: NewManifest, tags: string[], now: number, actor: string | null, opts: PutManifestOptions): Promise<void> {
    // The manifest's bytes are a blob: claimed, stored and durable before the transaction, as in commitBlob.
    await claimBlob(this.db, m.digest, m.size, now);
    await opts.storeBytes();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('manifests')
        .values({
          repository_id: repositoryId,
          digest: m.digest,
          media_type: m.mediaType,
          size: m.size,
          artifact_type: m.artifactType,
          subject: m.subject,
          created_at: now,
          pushed_at: now,
        })
        // An update, not "do nothing": it locks the row against GC's untagged-manifest delete.
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet({ pushed_at: now }))
        .execute();
      if (m.subject && m.annotations) {
        const annotations = JSON.stringify(m.annotations);
        await trx
          .insertInto('manifest_annotations')
          .values({ repository_id: repositoryId, digest: m.digest, chars: annotations.length, annotations })
          .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
          .execute();
      }
      await holdClaim(trx, m.digest, now);
      // Touching (UPDATE) rather than reading what the manifest needs closes the race with GC: see src/meta/gc-queries.ts.
      const missingBlobs = await touchMissing(trx, 'repository_blobs', repositoryId, m.blobs, now);
      const missingManifests = await touchMissing(trx, 'manifests', repositoryId, m.children, now);
      if (!opts.referencesMayBeAbsent && (missingBlobs.length || missingManifests.length)) throw new MissingReferences(missingBlobs, missingManifests);
      const refs = [
        ...unique(m.blobs).map((d) => ({ ref_digest: d, kind: 'blob' as const })),
        ...unique(m.children).map((d) => ({ ref_digest: d, kind: 'manifest' as const })),
      ];
      if (refs.length) {
        await trx
          .insertInto('manifest_refs')
          .values(refs.map((r) => ({ repository_id: repositoryId, manifest_digest: m.digest, ...r })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      for (const tag of tags) await setTag(trx, repositoryId, tag, m.digest, now, actor, opts.isImmutable);
      await opts.inTransaction?.(trx);
    });
    await this.durable();
  }

  async manifest(repositoryId: RepoId, digest: Digest): Promise<ManifestRow | undefined> {
    const r = await this.reader
      .selectFrom('manifests')
      .select(MANIFEST_COLUMNS)
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return r ? toManifestRow(r) : undefined;
  }

  async resolveTag(repositoryId: RepoId, tag: string): Promise<Digest | undefined> {
    const r = await this.reader
      .selectFrom('tags')
      .select('digest')
      .where('repository_id', '=', repositoryId)
      .where('name', '=', tag)
      .executeTakeFirst();
    return r?.digest as Digest | undefined;
  }

  async tags(repositoryId: RepoId, limit: number, last?: string): Promise<string[]> {
    let q = this.reader.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).orderBy('name').limit(limit);
    if (last !== undefined) q = q.where('name', '>', last);
    return (await q.execute()).map((r) => r.name);
  }

  async deleteTag(repositoryId: RepoId, tag: string, now: number, actor: string | null, inTransaction?: DeleteHook): Promise<Digest | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('tags')
        .where('repository_id', '=', repositoryId)
        .where('name', '=', tag)
        .returning('digest')
        .executeTakeFirst();
      if (!r) return undefined;
      await recordTagMove(trx, repositoryId, tag, r.digest, null, now, actor);
      if (inTransaction) {
        const m = await trx.selectFrom('manifests').select(MANIFEST_COLUMNS).where('repository_id', '=', repositoryId).where('digest', '=', r.digest).executeTakeFirst();
        if (m) await inTransaction(trx, { ...deletedFacts(toManifestRow(m)), tags: [tag] });
      }
      return r.digest as Digest;
    });
  }

  /** Removes a manifest and every tag pointing at it. Resolves to the tags removed, or undefined when absent. */
  async deleteManifest(repositoryId: RepoId, digest: Digest, now: number, actor: string | null, inTransaction?: DeleteHook): Promise<string[] | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('manifests')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .returning(MANIFEST_COLUMNS)
        .executeTakeFirst();
      if (!r) return undefined;
      await trx.deleteFrom('manifest_refs').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
      const tags = await trx
        .deleteFrom('tags')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .returning('name')
        .execute();
      for (const t of tags) await recordTagMove(trx, repositoryId, t.name, digest, null, now, actor);
      await inTransaction?.(trx, { ...deletedFacts(toManifestRow(r)), tags: tags.map((t) => t.name) });
      return tags.map((t) => t.name);
    });
  }

  /** One page of the manifests whose subject is `subject`, after `after`, without their annotations. */
  async referrers(repositoryId: RepoId, subject: Digest, opts: { artifactType?: string; after?: ReferrerCursor; limit: number }): Promise<ReferrerRow[]> {
    let q = this.reader
      .selectFrom('manifests as m')
      .leftJoin('manifest_annotations as a', (j) => j.onRef('a.repository_id', '=', 'm.repository_id').onRef('a.digest', '=', 'm.digest'))
      .select(['m.digest', 'm.media_type', 'm.size', 'm.artifact_type', 'm.subject', 'm.created_at', (eb) => eb.fn.coalesce('a.chars', eb.lit(0)).as('annotation_chars')])
      .where('m.repository_id', '=', repositoryId)
      .where('m.subject', '=', subject);
    if (opts.artifactType !== undefined) q = q.where('m.artifact_type', '=', opts.artifactType);
    const after = opts.after;
    if (after) q = q.where((eb) => eb.or([eb('m.created_at', '>', after.createdAt), eb.and([eb('m.created_at', '=', after.createdAt), eb('m.digest', '>', after.digest)])]));
    const rows = await q.orderBy('m.created_at').orderBy('m.digest').limit(opts.limit).execute();
    return rows.map((r) => ({ ...toManifestRow(r), annotationChars: Number(r.annotation_chars) }));
  }

  /** The annotations of some manifests of a repository (for the referrers API, a page at a time). */
  async annotations(repositoryId: RepoId, digests: Digest[]): Promise<Map<Digest, Record<string, string>>> {
    if (digests.length === 0) return new Map();
    const rows = await this.reader
      .selectFrom('manifest_annotations')
      .select(['digest', 'annotations'])
      .where('repository_id', '=', repositoryId)
      .where('digest', 'in', digests)
      .execute();
    return new Map(rows.map((r) => [r.digest as Digest, JSON.parse(r.annotations) as Record<string, string>]));
  }
}

async function link(trx: Db, repositoryId: RepoId, digest: Digest, now: number): Promise<void> {
  await trx
    .insertInto('repository_blobs')
    .values({ repository_id: repositoryId, digest, created_at: now, last_access_at: now })
    .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet({ last_access_at: now }))
    .execute();
}

/** Inserts or refreshes a blob's row; the update is the claim GC's sweep is conditioned on. */
async function claimBlob(trx: Db, digest: Digest, size: number, now: number): Promise<void> {
  await trx
    .insertInto('blobs')
    .values({ digest, size, created_at: now, linked_at: now })
    .onConflict((oc) => oc.column('digest').doUpdateSet({ linked_at: now }))
    .execute();
}

/** Renews a claim made before the store step, inside the transaction that links the blob; the row lock keeps GC off it from here on. */
async function holdClaim(trx: Db, digest: Digest, now: number): Promise<void> {
  const held = await trx.updateTable('blobs').set({ linked_at: now }).where('digest', '=', digest).executeTakeFirst();
  if (Number(held.numUpdatedRows) === 0) throw new ClaimLost(digest);
}

/**
 * Refreshes the access time of what a manifest needs (links, or child
 * manifests) and returns what is absent. The UPDATE row-locks each row, so a
 * concurrent GC delete of it either committed first (we see it missing) or
 * re-checks its age condition after us and spares it.
 */
async function touchMissing(trx: Db, table: 'repository_blobs' | 'manifests', repositoryId: RepoId, digests: Digest[], now: number): Promise<Digest[]> {
  const wanted = unique(digests);
  if (wanted.length === 0) return [];
  const found = new Set<string>();
  for (let i = 0; i < wanted.length; i += 500) {
    const batch = wanted.slice(i, i + 500);
    if (table === 'repository_blobs') {
      await trx.updateTable(table).set({ last_access_at: now }).where('repository_id', '=', repositoryId).where('digest', 'in', batch).execute();
    } else {
      await trx.updateTable(table).set({ pushed_at: now }).where('repository_id', '=', repositoryId).where('digest', 'in', batch).execute();
    }
    const rows = await trx
      .selectFrom(table)
      .select('digest')
      .where('repository_id', '=', repositoryId)
      .where('digest', 'in', batch)
      .execute();
    for (const r of rows) found.add(r.digest);
  }
  return wanted.filter((d) => !found.has(d));
}

async function setTag(
  trx: Db,
  repositoryId: RepoId,
  tag: string,
  digest: Digest,
  now: number,
  actor: string | null,
  isImmutable?: (tag: string) => boolean,
): Promise<void> {
  const old = await trx
    .selectFrom('tags')
    .select('digest')
    .where('repository_id', '=', repositoryId)
    .where('name', '=', tag)
    .executeTakeFirst();
  if (old?.digest === digest) return;
  if (old && isImmutable?.(tag)) throw new ImmutableTagMove(tag, old.digest as Digest);
  await trx
    .insertInto('tags')
    .values({ repository_id: repositoryId, name: tag, digest, updated_at: now })
    .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest, updated_at: now }))
    .execute();
  await recordTagMove(trx, repositoryId, tag, old?.digest ?? null, digest, now, actor);
}

async function recordTagMove(
  trx: Db,
  repositoryId: RepoId,
  tag: string,
  oldDigest: string | null,
  newDigest: string | null,
  now: number,
  actor: string | null,
): Promise<void> {
  await trx
    .insertInto('tag_history')
    .values({ repository_id: repositoryId, tag, old_digest: oldDigest, new_digest: newDigest, at: now, actor })
    .execute();
}

/** What a manifest row lookup reads: never the annotations, which can be as big as the manifest. */
const MANIFEST_COLUMNS = ['digest', 'media_type', 'size', 'artifact_type', 'subject', 'created_at'] as const;

function toManifestRow(r: { digest: string; media_type: string; size: number; artifact_type: string | null; subject: string | null; created_at: number }): ManifestRow {
  return {
    digest: r.digest as Digest,
    mediaType: r.media_type,
    size: Number(r.size),
    artifactType: r.artifact_type,
    subject: r.subject as Digest | null,
    createdAt: Number(r.created_at),
  };
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

const deletedFacts = (m: ManifestRow): Omit<DeletedManifest, 'tags'> => ({
  digest: m.digest,
  mediaType: m.mediaType,
  size: m.size,
  artifactType: m.artifactType,
  subject: m.subject,
});
