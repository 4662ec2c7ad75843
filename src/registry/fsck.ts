import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { algorithmOf, hexOf, type Digest } from '../oci/digest.js';
import { GcQueries } from '../meta/gc-queries.js';
import { BlobNotFoundError, BlobSizeMismatchError, type StoredBlob } from '../store/blob-store.js';
import type { RegistryContext } from './context.js';
import { uploadLeftovers, type Leftover } from './leftovers.js';

const PAGE = 1000;

export interface FsckProblem {
  digest: Digest;
  kind: 'corrupt' | 'orphan' | 'missing';
  detail: string;
  /** Manifests (repository@digest) that name it, so the operator knows what to re-push. */
  usedBy: string[];
  repaired: boolean;
}

export interface FsckReport {
  checked: number;
  checkedBytes: number;
  problems: FsckProblem[];
  /** Indexed blobs whose bytes are not stored yet, claimed within the grace period and linked by nothing: a commit in flight or one a crash cut short. */
  pending: number;
  /** What crashes left in the uploads area (repair removes it). */
  leftovers: (Leftover & { repaired: boolean })[];
  /** Blobs the server could not serve as indexed since the last fsck (now checked above, and forgotten). */
  flagged: { digest: Digest; reason: string; at: string }[];
}

export interface FsckOptions {
  repair: boolean;
  /** Receives the bytes of a corrupt or orphaned blob before it is removed from the store. */
  quarantine: (digest: Digest, bytes: Readable) => Promise<void>;
}

/**
 * Rehashes every stored blob and checks the index against the store:
 * - corrupt: an indexed blob's bytes do not hash to its digest. Repair quarantines them
 *   and drops the blob's row and links, so a client's HEAD says 404 and the
 *   next push uploads good bytes (manifests naming it stay, listed in usedBy).
 * - orphan: a file the index does not know (whatever it holds), older than the GC grace period
 *   (younger ones may be a commit in flight). Repair quarantines them.
 * - missing: indexed, not in the store. Reported; only a re-push can fix it.
 * Memory stays flat however many blobs there are: see the merge below.
 */
export async function fsck(ctx: RegistryContext, opts: FsckOptions): Promise<FsckReport> {
  const flagged = await ctx.meta.db.selectFrom('suspect_blobs').selectAll().orderBy('digest').limit(1000).execute();
  const report: FsckReport = {
    checked: 0,
    checkedBytes: 0,
    problems: [],
    pending: 0,
    leftovers: [],
    flagged: flagged.map((f) => ({ digest: f.digest as Digest, reason: f.reason, at: new Date(Number(f.noted_at)).toISOString() })),
  };
  const orphanBefore = ctx.now() - ctx.policy.settings.gc.graceMs;
  // A merge of two lists in digest order (the store's walk and the index's rows), so memory stays flat at any size.
  const rows = indexedBlobs(ctx)[Symbol.asyncIterator]();
  let row = (await rows.next()).value;
  for await (const stored of ctx.store.walk()) {
    report.checked++;
    report.checkedBytes += stored.size;
    for (; row && row.digest < stored.digest; row = (await rows.next()).value) await checkUnstored(ctx, report, row.digest, orphanBefore);
    if (row?.digest === stored.digest) {
      await checkIndexed(ctx, opts, report, stored, row.size);
      row = (await rows.next()).value;
    } else await checkUnindexed(ctx, opts, report, stored, orphanBefore);
  }
  for (; row; row = (await rows.next()).value) await checkUnstored(ctx, report, row.digest, orphanBefore);
  for await (const l of uploadLeftovers(ctx, orphanBefore)) {
    if (opts.repair) await ctx.store.removeUploadEntry(l.name);
    report.leftovers.push({ ...l, repaired: opts.repair });
  }
  if (flagged.length) await ctx.meta.db.deleteFrom('suspect_blobs').where('digest', 'in', flagged.map((f) => f.digest)).execute();
  return report;
}

/**
 * Every indexed blob in digest order, a page at a time. Both sides of the merge
 * agree on that order: SQLite compares bytes, object stores list keys by bytes,
 * and any PostgreSQL collation sorts `<alg>:<lowercase hex>` as bytes do. Should
 * one ever disagree, the merge costs more lookups but reports nothing false:
 * each side's strays are looked up on the other side before they are reported.
 */
async function* indexedBlobs(ctx: RegistryContext): AsyncIterable<{ digest: Digest; size: number }> {
  let after = '';
  for (;;) {
    const page = await ctx.meta.db.selectFrom('blobs').select(['digest', 'size']).where('digest', '>', after).orderBy('digest').limit(PAGE).execute();
    for (const r of page) yield { digest: r.digest as Digest, size: Number(r.size) };
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.digest;
  }
}

async function checkIndexed(ctx: RegistryContext, opts: FsckOptions, report: FsckReport, stored: StoredBlob, indexedSize: number): Promise<void> {
  const actual = await hashOf(ctx, stored.digest, stored.size);
  // Collected by a GC beside us since the walk listed it: nothing to check.
  if (actual === undefined) return;
  if (actual !== hexOf(stored.digest)) {
    report.problems.push(await corrupt(ctx, opts, stored.digest, `content hashes to ${algorithmOf(stored.digest)}:${actual}`));
  } else if (indexedSize !== stored.size) {
    report.problems.push(await corrupt(ctx, opts, stored.digest, `the index says ${indexedSize} bytes, the store holds ${stored.size}`));
  }
}

/** A stored blob the index's pages did not list: an orphan, unless it was committed since the page was read. */
async function checkUnindexed(ctx: RegistryContext, opts: FsckOptions, report: FsckReport, stored: StoredBlob, orphanBefore: number): Promise<void> {
  const indexed = await ctx.meta.db.selectFrom('blobs').select('size').where('digest', '=', stored.digest).executeTakeFirst();
  if (indexed) return checkIndexed(ctx, opts, report, stored, Number(indexed.size));
  // Younger files may be a commit in flight.
  if (stored.modifiedAt.getTime() >= orphanBefore) return;
  // Whatever its bytes, a file the index does not know serves nobody: orphaned, not corrupt.
  const problem: FsckProblem = { digest: stored.digest, kind: 'orphan', detail: 'in the store but not in the index', usedBy: [], repaired: false };
  if (opts.repair) {
    problem.repaired = await new GcQueries(ctx.meta.db).withOrphanClaim(stored.digest, async () => {
      await opts.quarantine(stored.digest, await ctx.store.read(stored.digest));
      await ctx.store.delete(stored.digest);
    });
    if (!problem.repaired) return; // committed by an upload meanwhile: not an orphan after all
  }
  report.problems.push(problem);
}

/**
 * An indexed blob the walk did not list: missing, unless its bytes arrived
 * since, GC removed it meanwhile (GC deletes the bytes just before its row), or
 * it is a claim nothing links yet within the grace period. Uploads and manifest
 * pushes claim the row before their bytes move into place; a crash in between
 * leaves exactly that, and GC's sweep removes the row once the grace period ends.
 */
async function checkUnstored(ctx: RegistryContext, report: FsckReport, digest: Digest, orphanBefore: number): Promise<void> {
  if (await ctx.store.stat(digest)) return;
  const row = await ctx.meta.db
    .selectFrom('blobs')
    .select(['linked_at'])
    .select(({ exists, selectFrom }) => [
      exists(selectFrom('repository_blobs').select('digest').where('repository_blobs.digest', '=', digest)).as('linked'),
      exists(selectFrom('manifests').select('digest').where('manifests.digest', '=', digest)).as('manifest'),
    ])
    .where('digest', '=', digest)
    .executeTakeFirst();
  if (!row) return;
  if (Number(row.linked_at) >= orphanBefore && !isTrue(row.linked) && !isTrue(row.manifest)) {
    report.pending++;
    return;
  }
  report.problems.push({ digest, kind: 'missing', detail: 'in the index but not in the store', usedBy: await usedBy(ctx, digest), repaired: false });
}

/** SQLite answers EXISTS with 0 or 1, PostgreSQL with a boolean. */
const isTrue = (v: unknown): boolean => v === true || Number(v) === 1;

async function corrupt(ctx: RegistryContext, opts: FsckOptions, digest: Digest, detail: string): Promise<FsckProblem> {
  const problem: FsckProblem = {
    digest,
    kind: 'corrupt',
    detail,
    usedBy: await usedBy(ctx, digest),
    repaired: false,
  };
  if (!opts.repair) return problem;
  await opts.quarantine(digest, await ctx.store.read(digest));
  await ctx.meta.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('repository_blobs').where('digest', '=', digest).execute();
    await trx.deleteFrom('blobs').where('digest', '=', digest).execute();
    // Inside the transaction, like GC's sweep: a concurrent re-upload claims the row after us and writes fresh bytes.
    await ctx.store.delete(digest);
  });
  problem.repaired = true;
  return problem;
}

async function usedBy(ctx: RegistryContext, digest: Digest): Promise<string[]> {
  const rows = await ctx.meta.db
    .selectFrom('manifest_refs')
    .innerJoin('repositories', 'repositories.id', 'manifest_refs.repository_id')
    .select(['repositories.name', 'manifest_refs.manifest_digest'])
    .where('manifest_refs.ref_digest', '=', digest)
    .limit(100)
    .execute();
  return rows.map((r) => `${r.name}@${r.manifest_digest}`);
}

/**
 * The hex hash of a stored blob; undefined when it is gone. `size` (what the
 * walk saw) bounds the read buffers: without it a filesystem read takes 1 MiB
 * per call, and a registry of small blobs (configs, manifests) spent most of
 * fsck collecting that garbage (10k blobs: 24 of 75 s).
 */
async function hashOf(ctx: RegistryContext, digest: Digest, size: number): Promise<string | undefined> {
  let stream: Readable;
  try {
    stream = await ctx.store.read(digest, undefined, size).catch((e: unknown) => {
      // Replaced since the walk saw it: hash whatever is there now.
      if (e instanceof BlobSizeMismatchError) return ctx.store.read(digest);
      throw e;
    });
  } catch (e) {
    if (e instanceof BlobNotFoundError) return undefined;
    throw e;
  }
  const hash = createHash(algorithmOf(digest));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (e) {
    // A file unlinked while we read it still reads to its end; an object store may cut the stream off.
    if (!(await ctx.store.stat(digest))) return undefined;
    throw e;
  }
  return hash.digest('hex');
}
