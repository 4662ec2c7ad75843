import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync, utimesSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { TEST_BACKEND } from './helpers/backends.js';
import { startBerth, type BerthServer } from './helpers/berth.js';
import { blob, imageConfig, imageManifest, randomBlob, type Blob } from './helpers/oci.js';
import { syncsOf, traceFile, traceSyscalls, type Syscall } from './helpers/syscall-trace.js';
import { until } from './helpers/wait.js';

/**
 * Invariant 2 under a real crash: `kill -9` while eight pushes run at once.
 * Whatever got a 201 for its manifest must come back whole after a restart on
 * the same data; whatever did not must leave no blob whose bytes are wrong.
 */

type Mode = 'monolithic-post' | 'chunked-patch' | 'monolithic-put';
const MODES: Mode[] = ['monolithic-post', 'chunked-patch', 'monolithic-put'];

interface Push {
  repo: string;
  tag: string;
  blobs: Blob[];
  manifest: Blob;
  mode: Mode;
  /** Stalls halfway through its last layer's body until the server dies. */
  stall: boolean;
  acked: boolean;
}

/** `seed` keeps each push's layers distinct; one layer is common to all, so commits of one digest race. */
function makePushes(count: number): Push[] {
  const shared = randomBlob(300_000, 0.5);
  return Array.from({ length: count }, (_, i) => {
    const config = blob(JSON.stringify({ ...JSON.parse(imageConfig().bytes.toString()), push: i }));
    const layers = [shared, randomBlob(400_000 + i * 150_000, (i + 1) / 10)];
    return { repo: `crash/p${i}`, tag: `v${i}`, blobs: [config, ...layers], manifest: imageManifest(config, layers), mode: MODES[i % MODES.length]!, stall: i >= 6, acked: false };
  });
}

/** A view for fetch's body type, without copying the bytes. */
const asBody = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.length);

async function expectStatus(r: Response, status: number, what: string): Promise<Response> {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${await r.text()}`);
  return r;
}

/** Sends half of `bytes` as the body of a PATCH and never the rest: a client caught mid-upload. */
function stalledPatch(url: URL, bytes: Buffer, onHalfSent: () => void): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length, 'Content-Range': `0-${bytes.length - 1}` },
    });
    req.on('error', () => resolve());
    req.on('response', (res) => (res.resume(), resolve()));
    req.write(bytes.subarray(0, bytes.length >> 1), () => onHalfSent());
  });
}

async function uploadBlob(base: string, push: Push, b: Blob, last: boolean, onStalled: () => void): Promise<void> {
  const uploads = `${base}/v2/${push.repo}/blobs/uploads/`;
  if (push.mode === 'monolithic-post' && !(push.stall && last)) {
    await expectStatus(await fetch(`${uploads}?digest=${b.digest}`, { method: 'POST', body: asBody(b.bytes) }), 201, 'POST ?digest=');
    return;
  }
  const start = await expectStatus(await fetch(uploads, { method: 'POST' }), 202, 'POST');
  const location = new URL(start.headers.get('location')!, base);
  if (push.stall && last) return stalledPatch(location, b.bytes, onStalled);
  const close = (url: URL) => {
    url.searchParams.set('digest', b.digest);
    return url;
  };
  if (push.mode === 'monolithic-put') {
    await expectStatus(await fetch(close(location), { method: 'PUT', body: asBody(b.bytes) }), 201, 'PUT with body');
    return;
  }
  let url = location;
  const step = Math.ceil(b.bytes.length / 3);
  for (let off = 0; off < b.bytes.length; off += step) {
    const chunk = b.bytes.subarray(off, off + step);
    const r = await expectStatus(
      await fetch(url, { method: 'PATCH', body: asBody(chunk), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + chunk.length - 1}` } }),
      202,
      'PATCH',
    );
    url = new URL(r.headers.get('location')!, base);
  }
  await expectStatus(await fetch(close(url), { method: 'PUT' }), 201, 'PUT closing');
}

async function runPush(base: string, push: Push, onStalled: () => void, onAcked: () => void): Promise<void> {
  for (const [i, b] of push.blobs.entries()) await uploadBlob(base, push, b, i === push.blobs.length - 1, onStalled);
  if (push.stall) return;
  const r = await fetch(`${base}/v2/${push.repo}/manifests/${push.tag}`, {
    method: 'PUT',
    body: asBody(push.manifest.bytes),
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (r.status === 201) {
    push.acked = true;
    onAcked();
  }
}

const sha256Of = (bytes: ArrayBuffer) => `sha256:${createHash('sha256').update(Buffer.from(bytes)).digest('hex')}`;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

describe('kill -9 during concurrent pushes', () => {
  let server: BerthServer | undefined;
  after(() => server?.stop('SIGKILL'));

  test('acknowledged pushes survive whole; nothing partial is ever served', async () => {
    server = await startBerth();
    const { dataDir } = server;
    const pushes = makePushes(8);
    let stalled = 0;
    let acked = 0;
    let killed = false;
    const killWhenReady = async () => {
      // Mid-flight: some manifests acknowledged, every stalled body half-written, the rest still going.
      if (killed || acked < 2 || stalled < pushes.filter((p) => p.stall).length) return;
      killed = true;
      await server!.stop('SIGKILL');
    };
    const results = await Promise.allSettled(
      pushes.map((p) =>
        runPush(
          server!.url,
          p,
          () => (stalled++, void killWhenReady()),
          () => (acked++, void killWhenReady()),
        ),
      ),
    );
    assert.ok(killed, `the server was killed mid-push: ${JSON.stringify(results.filter((r) => r.status === 'rejected'))}`);
    assert.ok(pushes.some((p) => p.acked) && pushes.some((p) => !p.acked), 'the crash split acknowledged from unacknowledged pushes');

    server = await startBerth({ dataDir });
    const url = server.url;
    for (const p of pushes.filter((x) => x.acked)) {
      const m = await fetch(`${url}/v2/${p.repo}/manifests/${p.tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(m.status, 200, `${p.repo}:${p.tag} was acknowledged`);
      assert.deepEqual(Buffer.from(await m.arrayBuffer()), p.manifest.bytes);
      for (const b of p.blobs) {
        const r = await fetch(`${url}/v2/${p.repo}/blobs/${b.digest}`);
        assert.equal(r.status, 200, `${p.repo} ${b.digest}`);
        assert.equal(sha256Of(await r.arrayBuffer()), b.digest);
      }
    }
    // Everything else: absent, or present and whole. Never bytes that miss their digest.
    for (const p of pushes) {
      for (const b of p.blobs) {
        const r = await fetch(`${url}/v2/${p.repo}/blobs/${b.digest}`);
        assert.ok([200, 404].includes(r.status), `${p.repo} ${b.digest}: ${r.status}`);
        if (r.status === 200) assert.equal(sha256Of(await r.arrayBuffer()), b.digest, `${p.repo} serves ${b.digest} whole`);
        else await r.body?.cancel();
      }
      if (p.stall) {
        const half = await fetch(`${url}/v2/${p.repo}/blobs/${p.blobs.at(-1)!.digest}`, { method: 'HEAD' });
        assert.equal(half.status, 404, 'a half-sent blob is not a blob');
      }
      const tags = await fetch(`${url}/v2/${p.repo}/tags/list`);
      if (tags.status === 200) {
        for (const tag of ((await tags.json()) as { tags: string[] }).tags) {
          const m = await fetch(`${url}/v2/${p.repo}/manifests/${tag}`);
          assert.deepEqual(Buffer.from(await m.arrayBuffer()), p.manifest.bytes, `a listed tag (${p.repo}:${tag}) holds the whole manifest`);
        }
      } else await tags.body?.cancel();
    }
    if (TEST_BACKEND === 'embedded') {
      // Storage itself: every file under blobs/ hashes to its name.
      const root = join(dataDir, 'blobs', 'sha256');
      for (const prefix of await readdir(root)) {
        for (const hex of await readdir(join(root, prefix))) assert.equal(await sha256File(join(root, prefix, hex)), `sha256:${hex}`);
      }
    }
    // The interrupted pushes can simply be done again.
    for (const p of pushes.filter((x) => !x.acked)) {
      for (const b of p.blobs) await expectStatus(await fetch(`${url}/v2/${p.repo}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: asBody(b.bytes) }), 201, 'blob re-push');
      await expectStatus(
        await fetch(`${url}/v2/${p.repo}/manifests/${p.tag}`, { method: 'PUT', body: asBody(p.manifest.bytes), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } }),
        201,
        'manifest re-push',
      );
    }
  });
});

/** Sends half of `bytes` as a monolithic `POST ?digest=` and never the rest. */
function stalledPost(url: URL, bytes: Buffer): void {
  const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length } });
  req.on('error', () => {});
  req.write(bytes.subarray(0, bytes.length >> 1));
}

/**
 * A monolithic upload lives for one request and has no session row: it is
 * not refused while the client's sessions are at their cap, and a crash in
 * the middle of its body leaves no blob, only bytes in uploads/ that the
 * purge removes like any leftover.
 */
describe('kill -9 during a monolithic upload', () => {
  let server: BerthServer | undefined;
  after(() => server?.stop('SIGKILL'));

  test('no session is opened; the half-sent blob is not a blob after a restart, and its bytes are purged', { skip: TEST_BACKEND !== 'embedded' && 'the filesystem store only' }, async () => {
    const config = 'uploads:\n  maxSessions: 1\n  purgeInterval: 1s\n';
    server = await startBerth({ config });
    const { dataDir, url } = server;
    await expectStatus(await fetch(`${url}/v2/mono/app/blobs/uploads/`, { method: 'POST' }), 202, 'the one session allowed');
    const whole = randomBlob(200_000, 0.3);
    await expectStatus(await fetch(`${url}/v2/mono/app/blobs/uploads/?digest=${whole.digest}`, { method: 'POST', body: asBody(whole.bytes) }), 201, 'POST ?digest= with the sessions at their cap');

    const half = randomBlob(2_000_000, 0.4);
    stalledPost(new URL(`/v2/mono/app/blobs/uploads/?digest=${half.digest}`, url), half.bytes);
    const uploads = join(dataDir, 'uploads');
    const staged = async () => (await readdir(uploads)).map((name) => join(uploads, name));
    await until(async () => (await staged()).some((f) => statSync(f).size >= half.bytes.length >> 1), 'half of the body to be written');
    const [leftover, ...others] = await staged();
    assert.deepEqual(others, [], 'the half-sent body is the only thing in uploads/ (the open session has written nothing)');
    await server.stop('SIGKILL');

    server = await startBerth({ dataDir, config });
    assert.equal((await fetch(`${server.url}/v2/mono/app/blobs/${half.digest}`, { method: 'HEAD' })).status, 404, 'a half-sent blob is not a blob');
    assert.equal((await fetch(`${server.url}/v2/mono/app/blobs/${whole.digest}`, { method: 'HEAD' })).status, 200);
    const old = new Date(Date.now() - 48 * 3600_000);
    utimesSync(leftover!, old, old);
    await until(() => !existsSync(leftover!), 'the purge to remove the half-sent bytes');
  });
});

/**
 * Group commit shares fsyncs between concurrent commits; it must never let a
 * 201 out before the syncs that make it durable. A kill -9 cannot tell (the
 * page cache survives the process), so the server's own system calls do:
 * for every digest acknowledged, the 201 is written only after the fsync of
 * its bytes (before they were renamed under the digest), of the directory the
 * rename went into, and of the metadata log (the WAL), each ended after the
 * rename. Then kill -9 right after the last 201, and every acknowledged blob
 * and manifest is served whole by a restarted server.
 */
describe('group commit: acknowledged means synced', () => {
  let server: BerthServer | undefined;
  after(() => server?.stop('SIGKILL'));

  test('each 201 follows the fsyncs of its data, its directory and the WAL; all survive a kill -9 that follows', { skip: TEST_BACKEND !== 'embedded' && 'the filesystem store and SQLite only' }, async () => {
    server = await startBerth();
    const { dataDir } = server;
    const trace = await traceSyscalls(server.process.pid!, traceFile(dataDir), ['fsync', 'fdatasync', 'rename', 'renameat', 'renameat2', 'write', 'writev']);
    const pushes = makePushes(8).map((p) => ({ ...p, stall: false }));
    await Promise.all(pushes.map((p) => runPush(server!.url, p, () => {}, () => {})));
    // strace writes a call's line when the call returns, and the thread waits for it there; on a
    // loaded machine the last 201 can reach us first, and a kill then would lose its line. The
    // event loop answers this request only after strace has let it past every earlier call.
    await expectStatus(await fetch(`${server.url}/v2/`), 200, 'GET /v2/ after the last 201');
    await server.stop('SIGKILL');
    const calls = await trace.stop();
    assert.ok(pushes.every((p) => p.acked), 'every push was acknowledged');

    const digests = new Set(pushes.flatMap((p) => [...p.blobs, p.manifest].map((b) => b.digest)));
    for (const digest of digests) assertSyncedBeforeAck(calls, dataDir, digest);

    const restarted = await startBerth({ dataDir });
    server = restarted;
    for (const p of pushes) {
      const m = await fetch(`${restarted.url}/v2/${p.repo}/manifests/${p.tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.deepEqual(Buffer.from(await m.arrayBuffer()), p.manifest.bytes, `${p.repo}:${p.tag} was acknowledged`);
      for (const b of p.blobs) {
        const r = await fetch(`${restarted.url}/v2/${p.repo}/blobs/${b.digest}`);
        assert.equal(r.status, 200, `${p.repo} ${b.digest}`);
        assert.equal(sha256Of(await r.arrayBuffer()), b.digest);
      }
    }
  });
});

function assertSyncedBeforeAck(calls: Syscall[], dataDir: string, digest: string): void {
  const hex = digest.slice('sha256:'.length);
  const dir = join(dataDir, 'blobs', 'sha256', hex.slice(0, 2));
  const acks = calls.filter((c) => (c.name === 'write' || c.name === 'writev') && c.args.includes('201 Created') && c.args.toLowerCase().includes(`docker-content-digest: ${digest}`));
  assert.ok(acks.length > 0, `the 201 for ${digest} is in the trace`);
  const ack = Math.min(...acks.map((c) => c.started));
  // Concurrent pushes of one digest each rename theirs: one of the renames before the 201 must be the acknowledged commit's.
  const renames = calls.filter((c) => c.name.startsWith('rename') && c.args.includes(`"${join(dir, hex)}"`) && c.ended < ack);
  assert.ok(renames.length > 0, `${digest} was renamed into place before its 201`);
  const between = (syncs: Syscall[], after: number) => syncs.some((s) => s.started > after && s.ended < ack);
  const missing = (rename: Syscall) => {
    const source = /"([^"]+)"/.exec(rename.args)![1]!;
    return [
      syncsOf(calls, source).some((s) => s.ended < rename.started) ? '' : `its bytes (${source}) before the rename`,
      between(syncsOf(calls, dir), rename.ended) ? '' : 'its directory after the rename',
      between(syncsOf(calls, join(dataDir, 'berth.db-wal')), rename.ended) ? '' : 'the WAL after the rename',
    ].filter(Boolean);
  };
  const gaps = renames.map(missing);
  assert.ok(gaps.some((g) => g.length === 0), `${digest} was acknowledged without an fsync of ${gaps.at(-1)!.join(', ')}`);
}
