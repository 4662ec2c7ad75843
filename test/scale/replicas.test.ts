import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { s3pgEnv, s3PendingUploads, startTestS3 } from '../helpers/backends.js';
import { migrations } from '../../src/meta/migrations/index.js';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { imageConfig, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { errorCode, Raw } from '../helpers/registry-client.js';
import type { S3Server } from '../helpers/s3.js';

/** The smallest part S3 allows, so a few MB of test data cross part boundaries. */
const PART = 5 << 20;
/** docs/REPLICAS.md promises caches follow another replica's write within 1 s; allow ten times that before failing. */
const STALENESS_LIMIT_MS = 10_000;

let postgres: Postgres;
let s3: S3Server;
let env: Record<string, string>;
let pgUrl: string;
const replicas: BerthServer[] = [];
const api = (i: number) => new Raw(replicas[i]!.url);

async function startReplica(): Promise<BerthServer> {
  return startBerth({ env: { ...env, BERTH_STORAGE_S3_PART_SIZE: String(PART) } });
}

before(async () => {
  [postgres, s3] = await Promise.all([startPostgres(), startTestS3()]);
  pgUrl = await postgres.createDatabase();
  env = s3pgEnv(s3, pgUrl);
  // Three replicas migrate one empty database at the same moment.
  replicas.push(...(await Promise.all([startReplica(), startReplica(), startReplica()])));
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await Promise.all([postgres?.stop(), s3?.stop()]);
});

async function getBytes(r: Raw, path: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await r.fetch(path);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

async function patch(r: Raw, location: string, bytes: Buffer, start: number): Promise<Response> {
  return r.fetch(location, {
    method: 'PATCH',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${start + bytes.length - 1}` },
  });
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
}

/** Polls until `check` passes or the documented staleness bound (with margin) has passed. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STALENESS_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: still stale after ${STALENESS_LIMIT_MS} ms`);
    await sleep(50);
  }
}

async function pushImage(r: Raw, repo: string, tag: string, layers: Blob[]): Promise<Blob> {
  const config = imageConfig();
  const manifest = imageManifest(config, layers);
  await r.pushImage(repo, tag, [config, ...layers], manifest);
  return manifest;
}

describe('replicas sharing one PostgreSQL and one bucket', () => {
  test('replicas started together on an empty database all came up, with every migration applied', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const r = await client.query<{ name: string }>('SELECT name FROM berth_migrations ORDER BY name');
      assert.deepEqual(
        r.rows.map((x) => x.name),
        Object.keys(migrations('postgres')).sort(),
      );
    } finally {
      await client.end();
    }
  });

  test('a chunked upload started on A, continued on B and C, closes on A', async () => {
    const b = randomBlob(2 * PART + 1_500_000);
    // Chunk boundaries unrelated to part boundaries: each replica rebuilds the hash from stored parts and tail.
    const cuts = [0, 3_000_000, 7_000_000, 10_600_000, b.bytes.length];
    let location = await api(0).startUpload('spread/app');
    for (let i = 0; i + 1 < cuts.length; i++) {
      const r = await patch(api((i + 1) % 3), location, b.bytes.subarray(cuts[i], cuts[i + 1]), cuts[i]!);
      assert.equal(r.status, 202, `chunk ${i} on replica ${(i + 1) % 3}`);
      assert.equal(r.headers.get('range'), `0-${cuts[i + 1]! - 1}`);
      location = r.headers.get('location')!;
    }
    const status = await api(2).fetch(location);
    assert.equal(status.headers.get('range'), `0-${b.bytes.length - 1}`);
    const put = await api(0).fetch(withDigest(location, b.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    for (const i of [0, 1, 2]) {
      const got = await getBytes(api(i), `/v2/spread/app/blobs/${b.digest}`);
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(b.bytes), `replica ${i} serves the exact bytes`);
    }
    assert.deepEqual(await s3PendingUploads(s3), [], 'the upload left no parts behind');
  });

  test('an image pushed on A is pullable from B the moment the manifest PUT returned', async () => {
    const layer = randomBlob(300_000);
    const manifest = await pushImage(api(0), 'fresh/app', 'v1', [layer]);
    const got = await getBytes(api(1), '/v2/fresh/app/manifests/v1');
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('docker-content-digest'), manifest.digest);
    assert.ok(got.bytes.equals(manifest.bytes));
    const blobFromC = await getBytes(api(2), `/v2/fresh/app/blobs/${layer.digest}`);
    assert.ok(blobFromC.bytes.equals(layer.bytes));
    const tags = await api(2).fetch('/v2/fresh/app/tags/list');
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1']);
  });

  test('a tag moved or deleted on A is not served stale by B (which had it cached)', async () => {
    const first = await pushImage(api(0), 'moving/app', 'latest', [randomBlob(1000)]);
    // B resolves (and caches) the tag and the manifest.
    for (let i = 0; i < 2; i++) assert.equal((await getBytes(api(1), '/v2/moving/app/manifests/latest')).headers.get('docker-content-digest'), first.digest);

    const second = await pushImage(api(0), 'moving/app', 'latest', [randomBlob(1000)]);
    await eventually('tag moved on A, read on B', async () => {
      const got = await getBytes(api(1), '/v2/moving/app/manifests/latest');
      return got.headers.get('docker-content-digest') === second.digest && got.bytes.equals(second.bytes);
    });

    const del = await api(0).fetch(`/v2/moving/app/manifests/${second.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    await eventually('manifest deleted on A, read on B', async () => (await api(1).fetch('/v2/moving/app/manifests/latest')).status === 404);
    assert.equal((await api(1).fetch(`/v2/moving/app/manifests/${second.digest}`)).status, 404);
  });

  test('the same blob pushed to two replicas at once is stored once and served intact', async () => {
    const b = randomBlob(PART + 700_000);
    const monolithic = api(0).pushBlob('race/one', b);
    const chunked = (async () => {
      const location = await api(1).startUpload('race/two');
      const r = await patch(api(1), location, b.bytes, 0);
      assert.equal(r.status, 202);
      return api(1).fetch(withDigest(r.headers.get('location')!, b.digest), { method: 'PUT' });
    })();
    const [r1, r2] = await Promise.all([monolithic, chunked]);
    assert.equal(r1.status, 201);
    assert.equal(r2.status, 201);
    for (const repo of ['race/one', 'race/two']) {
      const got = await getBytes(api(2), `/v2/${repo}/blobs/${b.digest}`);
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(b.bytes));
    }
    assert.deepEqual(await s3PendingUploads(s3), []);
  });

  test('a replica killed mid-chunk loses nothing accepted; the client resumes on another replica', async () => {
    const b = randomBlob(2 * PART + 500_000);
    const accepted = 6_000_000;
    let location = await api(0).startUpload('crash/app');
    const first = await patch(api(0), location, b.bytes.subarray(0, accepted), 0);
    assert.equal(first.status, 202);
    location = first.headers.get('location')!;

    // A chunk of wrong bytes, long enough that A stores a whole part before it dies.
    const victim = replicas[0]!;
    const garbage = randomBlob(PART).bytes;
    const inFlight = streamThenStall(victim.url, location, garbage, accepted);
    await inFlight.sent;
    await sleep(300);
    victim.process.kill('SIGKILL');
    await victim.exited;
    await inFlight.done;

    // Nothing of the broken chunk was accepted, and no blob is visible.
    const status = await api(1).fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${accepted - 1}`);
    assert.equal((await api(2).fetch(`/v2/crash/app/blobs/${b.digest}`, { method: 'HEAD' })).status, 404);

    // The dead replica's claim on the session holds until it lapses; meanwhile a chunk gets 416 and the range to resume from.
    let rest = await patch(api(1), location, b.bytes.subarray(accepted), accepted);
    assert.equal(rest.status, 416);
    assert.equal(rest.headers.get('range'), `0-${accepted - 1}`);
    const deadline = Date.now() + 30_000;
    while (rest.status === 416 && Date.now() < deadline) {
      await sleep(500);
      rest = await patch(api(1), location, b.bytes.subarray(accepted), accepted);
    }
    assert.equal(rest.status, 202);
    const put = await api(2).fetch(withDigest(rest.headers.get('location')!, b.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    const got = await getBytes(api(1), `/v2/crash/app/blobs/${b.digest}`);
    assert.ok(got.bytes.equals(b.bytes), 'the stored blob holds the resumed bytes, not the broken chunk');

    replicas[0] = await startReplica();
  });

  test('while one replica writes a chunk, a second writer to the same session elsewhere is refused and cannot corrupt it', async () => {
    const b = randomBlob(PART + 2_000_000);
    const location = await api(0).startUpload('fenced/app');
    const intruder = streamThenStall(replicas[0]!.url, location, randomBlob(PART + 1000).bytes, 0);
    await intruder.sent;
    await sleep(300);
    const refused = await patch(api(1), location, b.bytes, 0);
    assert.equal(refused.status, 416);
    assert.equal(await errorCode(refused), 'BLOB_UPLOAD_INVALID');
    // The stalled writer gives up; its claim is released and nothing it sent was accepted.
    intruder.abort();
    await intruder.done;
    let r = refused;
    for (let i = 0; i < 50 && r.status === 416; i++) {
      await sleep(100);
      r = await patch(api(1), location, b.bytes, 0);
    }
    assert.equal(r.status, 202);
    const put = await api(2).fetch(withDigest(r.headers.get('location')!, b.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    assert.ok((await getBytes(api(0), `/v2/fenced/app/blobs/${b.digest}`)).bytes.equals(b.bytes));
  });

  test('GC runs on one replica at a time while the others take pushes; nothing referenced is lost', async () => {
    // Two more replicas collect garbage every 200 ms; content younger than 4 s is spared (the grace period:
    // a push's blobs wait unreferenced until its manifest, which on a loaded machine and a real S3 took over 1.5 s).
    const gcEnv = { ...env, BERTH_GC_INTERVAL: '200ms', BERTH_GC_GRACE: '4s' };
    const collectors = await Promise.all([startBerth({ env: gcEnv }), startBerth({ env: gcEnv })]);
    try {
      const orphan = randomBlob(10_000);
      assert.equal((await api(0).pushBlob('gc/app', orphan)).status, 201);
      const pushed: { tag: string; manifest: Blob; blobs: Blob[] }[] = [];
      for (let i = 0; i < 12; i++) {
        const config = imageConfig(`arch${i}`);
        const layer = randomBlob(20_000);
        const manifest = imageManifest(config, [layer]);
        await api(i % 3).pushImage('gc/app', `v${i}`, [config, layer], manifest);
        pushed.push({ tag: `v${i}`, manifest, blobs: [config, layer] });
        await sleep(250);
      }
      await eventually('the orphan blob is collected', async () => (await api(2).fetch(`/v2/gc/app/blobs/${orphan.digest}`, { method: 'HEAD' })).status === 404);
      for (const p of pushed) {
        const m = await getBytes(api(1), `/v2/gc/app/manifests/${p.tag}`);
        assert.equal(m.status, 200, p.tag);
        assert.ok(m.bytes.equals(p.manifest.bytes));
        for (const b of p.blobs) assert.ok((await getBytes(api(2), `/v2/gc/app/blobs/${b.digest}`)).bytes.equals(b.bytes), `${p.tag} ${b.digest}`);
      }
      const runs = collectors.flatMap((c) => c.logs.filter((l) => l.msg === 'garbage collected'));
      assert.ok(runs.length > 0, 'GC ran');
    } finally {
      await Promise.all(collectors.map((c) => c.stop()));
    }
  });

  test('with redirect: true a blob GET answers 307 to a presigned URL that serves the bytes', async () => {
    const redirecting = await startBerth({ env: { ...env, BERTH_STORAGE_S3_REDIRECT: 'true' } });
    try {
      const b = randomBlob(50_000);
      assert.equal((await api(1).pushBlob('redirect/app', b)).status, 201);
      const r = await new Raw(redirecting.url).fetch(`/v2/redirect/app/blobs/${b.digest}`);
      assert.equal(r.status, 307);
      const target = new URL(r.headers.get('location')!);
      assert.equal(target.origin, s3.endpoint);
      assert.ok(target.searchParams.has('X-Amz-Signature'));
      const direct = await fetch(target);
      assert.equal(direct.status, 200);
      assert.ok(Buffer.from(await direct.arrayBuffer()).equals(b.bytes));
      // Ranged reads still stream through Berth.
      const ranged = await new Raw(redirecting.url).fetch(`/v2/redirect/app/blobs/${b.digest}`, { headers: { Range: 'bytes=0-9' } });
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(b.bytes.subarray(0, 10)));
    } finally {
      await redirecting.stop();
    }
  });
});

/** Sends `bytes` as the start of a longer PATCH and then stalls, as a client whose replica dies mid-transfer. */
function streamThenStall(base: string, location: string, bytes: Buffer, start: number): { sent: Promise<void>; done: Promise<void>; abort(): void } {
  const url = new URL(location, base);
  const req = http.request(url, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${start + 2 * bytes.length - 1}`, 'Content-Length': 2 * bytes.length },
  });
  const done = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
  });
  const sent = new Promise<void>((resolve) => req.write(bytes, () => resolve()));
  return { sent, done, abort: () => req.destroy() };
}
