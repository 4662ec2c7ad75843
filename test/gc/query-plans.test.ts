import assert from 'node:assert/strict';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { test } from 'node:test';
import { migrate, openSqlite } from '../../src/meta/database.js';
import { GcQueries } from '../../src/meta/gc-queries.js';
import type { Database } from '../../src/meta/schema.js';
import type { RepoId } from '../../src/meta/metadata.js';
import type { Digest } from '../../src/oci/digest.js';

/**
 * GC's per-row question "does a manifest of this repository name this
 * digest?" must be an index lookup on (repository_id, ref_digest): answered
 * from the repository prefix of the primary key it reads every reference of
 * the repository per row, and one repository of 10,000 images held the link
 * sweep, and SQLite's write lock with it, for 87 s (bench --scale).
 */
async function plansOf(run: (q: GcQueries) => Promise<unknown>): Promise<string[]> {
  const meta = openSqlite(':memory:');
  await migrate(meta);
  const queries: CompiledQuery[] = [];
  const logged = new Kysely<Database>({ dialect: new SqliteDialect({ database: meta.sqlite }), log: (e) => void queries.push(e.query) });
  await run(new GcQueries(logged));
  const plans = queries.map((q) => meta.sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])).map((r) => (r as { detail: string }).detail).join('\n'));
  meta.sqlite.close();
  return plans;
}

const REFERENCE_BY_REPOSITORY = /SEARCH manifest_refs USING (COVERING )?INDEX manifest_refs_repository_ref \(repository_id=\? AND ref_digest=\?/;

test('the link sweep looks up each link among its repository\'s references by digest', async () => {
  const [plan] = await plansOf((q) => q.sweepLinks(Date.now()));
  assert.match(plan!, REFERENCE_BY_REPOSITORY);
});

test('untagged manifests are checked against their repository\'s index references by digest', async () => {
  const plans = await plansOf(async (q) => {
    await q.untaggedManifests(Date.now(), 10);
    await q.deleteUntagged(1 as RepoId, 'sha256:00' as Digest, Date.now());
  });
  const withRefs = plans.filter((p) => p.includes('manifest_refs'));
  assert.ok(withRefs.length >= 2, plans.join('\n---\n'));
  for (const p of withRefs.slice(0, 2)) assert.match(p, REFERENCE_BY_REPOSITORY);
});
