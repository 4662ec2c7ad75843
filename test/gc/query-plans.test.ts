import assert from 'node:assert/strict';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { migrate, openSqlite } from '../../src/meta/database.js';
import { GcQueries } from '../../src/meta/gc-queries.js';
import { openPostgres, type PostgresMetaDb } from '../../src/meta/postgres.js';
import type { Database } from '../../src/meta/schema.js';
import type { RepoId } from '../../src/meta/metadata.js';
import type { Digest } from '../../src/oci/digest.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';

/**
 * GC's per-row question "does a manifest of this repository name this
 * digest?" must be an index lookup on (repository_id, ref_digest): answered
 * from the repository prefix of the primary key it reads every reference of
 * the repository per row, and one repository of 10,000 images held the link
 * sweep, and SQLite's write lock with it, for 87 s (bench --scale).
 */
interface Planner {
  /** Runs GC's queries on a Kysely that records what it sends, and returns each one's plan. */
  plansOf(run: (q: GcQueries) => Promise<unknown>): Promise<string[]>;
}

const untaggedChecks = async (q: GcQueries) => {
  await q.untaggedManifests(Date.now(), 10);
  await q.deleteUntagged(1 as RepoId, 'sha256:00' as Digest, Date.now());
};

describe('SQLite', () => {
  const sqlite: Planner = {
    async plansOf(run) {
      const meta = openSqlite(':memory:');
      await migrate(meta);
      const queries: CompiledQuery[] = [];
      await run(new GcQueries(new Kysely<Database>({ dialect: new SqliteDialect({ database: meta.sqlite }), log: (e) => void queries.push(e.query) })));
      const plans = queries.map((q) => meta.sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])).map((r) => (r as { detail: string }).detail).join('\n'));
      meta.sqlite.close();
      return plans;
    },
  };
  const REFERENCE_BY_REPOSITORY = /SEARCH manifest_refs USING (COVERING )?INDEX manifest_refs_repository_ref \(repository_id=\? AND ref_digest=\?/;

  test('the link sweep looks up each link among its repository\'s references by digest', async () => {
    const [plan] = await sqlite.plansOf((q) => q.sweepLinks(Date.now()));
    assert.match(plan!, REFERENCE_BY_REPOSITORY);
  });

  test('untagged manifests are checked against their repository\'s index references by digest', async () => {
    const withRefs = (await sqlite.plansOf(untaggedChecks)).filter((p) => p.includes('manifest_refs'));
    assert.ok(withRefs.length >= 2, withRefs.join('\n---\n'));
    for (const p of withRefs.slice(0, 2)) assert.match(p, REFERENCE_BY_REPOSITORY);
  });
});

describe('PostgreSQL', () => {
  let cluster: Postgres;
  let meta: PostgresMetaDb;
  before(async () => {
    cluster = await startPostgres();
    // One connection: the SET below is per session, and every query and EXPLAIN must run in that session.
    meta = openPostgres(await cluster.createDatabase(), { poolSize: 1 });
    await migrate(meta);
    // The tables are empty, and over a handful of pages a sequential scan is what PostgreSQL rightly picks;
    // the question is which index it reaches for when tables are big, so sequential scans are priced out.
    await meta.pool.query('SET enable_seqscan = off');
  });
  after(async () => {
    await meta?.close();
    await cluster?.stop();
  });
  const postgres: Planner = {
    async plansOf(run) {
      const queries: CompiledQuery[] = [];
      await run(new GcQueries(new Kysely<Database>({ dialect: new PostgresDialect({ pool: meta.pool }), log: (e) => void queries.push(e.query) })));
      const plans: string[] = [];
      // Kysely logs the transaction's begin and commit too: only statements have plans.
      for (const q of queries.filter((c) => !/^(begin|commit|rollback)/i.test(c.sql))) plans.push((await meta.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.sql}`, q.parameters as unknown[])).rows.map((r) => r['QUERY PLAN']).join('\n'));
      return plans;
    },
  };
  // A lookup per row (Index Cond) or one merge (Merge Cond) on both columns: never every reference of the repository per row.
  const BY_REFERENCE = /(Index|Merge) Cond: \(\(\S*repository_id = \S+\) AND \((ref_digest = |\S+ = manifest_refs\.ref_digest\))/;
  const assertByReference = (plan: string) => {
    assert.match(plan, /using manifest_refs_repository_ref on manifest_refs/, plan);
    assert.match(plan, BY_REFERENCE, plan);
  };

  test('the link sweep meets each link with its repository\'s references by digest', async () => {
    const [plan] = await postgres.plansOf((q) => q.sweepLinks(Date.now()));
    assertByReference(plan!);
  });

  test('untagged manifests are checked against their repository\'s index references by digest', async () => {
    const withRefs = (await postgres.plansOf(untaggedChecks)).filter((p) => p.includes('manifest_refs'));
    assert.ok(withRefs.length >= 2, withRefs.join('\n---\n'));
    for (const p of withRefs.slice(0, 2)) assertByReference(p);
  });
});
