import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { seedDataDir } from '../../bench/scale/seed-data.js';
import { seedDistribution } from '../../bench/scale/distribution-seed.js';
import { SEED_TAGS_REPOSITORY, seedPlan, seedRepositoryName, type SeedReport } from '../../src/meta/seed.js';
import { startDistribution } from '../helpers/distribution-auth.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { Raw } from '../helpers/registry-client.js';
import { berth } from '../helpers/cli.js';
import { REPORT_BLOBS } from '../../src/registry/gc.js';

// What the scale bench measures is only as real as what it seeds: a registry that serves, lists and collects as pushed ones do.
// Blobs enough that GC's garbage (a tenth) outgrows what a GC report names (REPORT_BLOBS).
const SHAPE = { repositories: 150, tags: 30, blobs: 12_000 };
let server: BerthServer;
let seeded: SeedReport;
let api: Raw;

before(async () => {
  const dataDir = tempDir();
  seeded = await seedDataDir(dataDir, SHAPE);
  server = await startBerth({ dataDir });
  api = new Raw(server.url);
});
after(() => server.stop());

const sha256 = (b: ArrayBuffer) => `sha256:${createHash('sha256').update(Buffer.from(b)).digest('hex')}`;

test('seeded repositories are listed by the catalog, page after page', async () => {
  const names: string[] = [];
  for (let path: string | undefined = '/v2/_catalog?n=100'; path; ) {
    const r = await api.fetch(path);
    assert.equal(r.status, 200);
    names.push(...((await r.json()) as { repositories: string[] }).repositories);
    path = /<([^>]+)>/.exec(r.headers.get('link') ?? '')?.[1];
  }
  assert.equal(names.length, SHAPE.repositories + 1);
  assert.ok(names.includes(seedRepositoryName(SHAPE.repositories - 1)) && names.includes(SEED_TAGS_REPOSITORY));
  assert.equal(seeded.repositories, SHAPE.repositories + 1);
});

test('a seeded image is served by tag, and every blob it names hashes to its digest', async () => {
  const repo = seedRepositoryName(77);
  const r = await api.fetch(`/v2/${repo}/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(r.status, 200);
  const bytes = await r.arrayBuffer();
  assert.equal(sha256(bytes), r.headers.get('docker-content-digest'));
  const manifest = JSON.parse(Buffer.from(bytes).toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  assert.ok(manifest.layers.length > 1, 'an image of several layers');
  for (const d of [manifest.config, ...manifest.layers]) {
    const b = await api.fetch(`/v2/${repo}/blobs/${d.digest}`);
    assert.equal(b.status, 200);
    const body = await b.arrayBuffer();
    assert.deepEqual([sha256(body), body.byteLength], [d.digest, d.size]);
  }
});

test('the tags repository lists every seeded tag', async () => {
  const r = await api.fetch(`/v2/${SEED_TAGS_REPOSITORY}/tags/list?n=1000`);
  const { tags } = (await r.json()) as { tags: string[] };
  assert.equal(tags.length, SHAPE.tags);
  assert.equal(tags[0], 'v000000');
});

test('the garbage seeded is what a GC dry run would collect, and nothing an image needs', async () => {
  assert.ok(seeded.garbage >= SHAPE.blobs / 20, `some garbage (${seeded.garbage})`);
  const r = await api.fetch('/berth/v1/gc/dry-run', { method: 'POST' });
  assert.equal(r.status, 200);
  const report = (await r.json()) as { blobs: number; freedBytes: number };
  assert.equal(report.blobs, seeded.garbage);
  assert.ok(report.freedBytes > 0);
  // About as many blobs as asked for (shared base layers and rounding aside).
  assert.ok(Math.abs(seeded.blobs - SHAPE.blobs) < SHAPE.blobs / 10, `${seeded.blobs} blobs for ${SHAPE.blobs}`);
});

test('a GC run beside the server counts every blob it sweeps and names only the first REPORT_BLOBS', async () => {
  assert.ok(seeded.garbage > REPORT_BLOBS, `more garbage (${seeded.garbage}) than a report names`);
  const gc = await berth(['gc', '--data', server.dataDir, '--json'], {});
  assert.equal(gc.code, 0, gc.stderr);
  const report = JSON.parse(gc.stdout) as { blobs: { digest: string }[]; blobsTotal: number; waiting: { blobs: number } };
  assert.equal(report.blobsTotal, seeded.garbage);
  assert.equal(report.blobs.length, REPORT_BLOBS);
  assert.deepEqual(report.blobs.map((b) => b.digest), report.blobs.map((b) => b.digest).sort(), 'the first ones, in digest order');
  assert.equal(report.waiting.blobs, 0);
  const again = (await (await api.fetch('/berth/v1/gc/dry-run', { method: 'POST' })).json()) as { blobs: number };
  assert.equal(again.blobs, 0, 'the ones not named were swept too');
});

test("Distribution's storage laid out from the same plan serves the same catalog, tags and images", async () => {
  const shape = { repositories: 20, tags: 5, blobs: 200 };
  const root = tempDir();
  await seedDistribution(root, shape);
  const distribution = await startDistribution({ root });
  try {
    const d = new Raw(distribution.url);
    const catalog = (await (await d.fetch('/v2/_catalog?n=1000')).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, [...Array.from({ length: shape.repositories }, (_, i) => seedRepositoryName(i)), SEED_TAGS_REPOSITORY].sort());
    const tags = (await (await d.fetch(`/v2/${SEED_TAGS_REPOSITORY}/tags/list`)).json()) as { tags: string[] };
    // Distribution 2.8 lists a repository's tags in directory order, every one of them (it ignores n and last).
    assert.deepEqual(tags.tags.sort(), ['v000000', 'v000001', 'v000002', 'v000003', 'v000004']);
    const planned = [...seedPlan(shape)][0]![7]!.tags[0]!.image;
    const r = await d.fetch(`/v2/${seedRepositoryName(7)}/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(r.status, 200);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), planned.manifest.bytes);
    for (const b of [planned.config, ...planned.layers]) {
      const got = await d.fetch(`/v2/${seedRepositoryName(7)}/blobs/${b.digest}`);
      assert.equal(got.status, 200, b.digest);
      assert.equal(sha256(await got.arrayBuffer()), b.digest);
    }
  } finally {
    await distribution.stop();
  }
});
