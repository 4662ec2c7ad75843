import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { imageConfig, imageManifest, randomBlob } from '../helpers/oci.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { errorCode, Raw } from '../helpers/registry-client.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { until } from '../helpers/wait.js';

const isRoot = process.getuid?.() === 0;
const blobFile = (server: BerthServer, digest: string) => join(server.dataDir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));


/** GETs over one keep-alive connection, so a response that sent too much would corrupt the next one. */
function oneConnection(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(base);
  const get = (path: string) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.get({ host: url.hostname, port: url.port, path, agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  return { get, close: () => agent.destroy() };
}

describe('storage faults are refused cleanly, reported, and never served', () => {
  let server: BerthServer;
  let api: Raw;

  before(async () => {
    server = await startBerth({ config: 'gc:\n  interval: 0\n  grace: 0s\nuploads:\n  expiry: 2s\n  purgeInterval: 500ms\n' });
    api = new Raw(server.url);
  });
  after(() => server?.stop());

  test('a blob file longer or shorter than indexed is refused before a byte is sent, and fsck is told', async () => {
    const longer = randomBlob(5000, 0.41);
    const shorter = randomBlob(5000, 0.42);
    const fine = randomBlob(5000, 0.43);
    for (const b of [longer, shorter, fine]) assert.equal((await api.pushBlob('faults/app', b)).status, 201);
    appendFileSync(blobFile(server, longer.digest), Buffer.alloc(64, 0x41));
    truncateSync(blobFile(server, shorter.digest), 100);
    const conn = oneConnection(server.url);
    try {
      for (const b of [longer, shorter]) {
        const r = await conn.get(`/v2/faults/app/blobs/${b.digest}`);
        assert.equal(r.status, 500);
        assert.match(JSON.parse(r.body.toString()).errors[0].message, /damaged in storage .* berth fsck/);
      }
      const ok = await conn.get(`/v2/faults/app/blobs/${fine.digest}`);
      assert.equal(ok.status, 200, 'the connection is still in step');
      assert.ok(ok.body.equals(fine.bytes));
    } finally {
      conn.close();
    }
    const fsck = await berth(['fsck', '--data', server.dataDir, '--json'], {});
    const report = JSON.parse(fsck.stdout) as { flagged: { digest: string }[]; problems: { digest: string; kind: string }[] };
    assert.deepEqual(report.flagged.map((f) => f.digest).sort(), [longer.digest, shorter.digest].sort());
    for (const b of [longer, shorter]) assert.ok(report.problems.some((p) => p.digest === b.digest && p.kind === 'corrupt'));
    const second = JSON.parse((await berth(['fsck', '--data', server.dataDir, '--json'], {})).stdout) as { flagged: unknown[] };
    assert.equal(second.flagged.length, 0, 'looked at once, then forgotten');
  });

  test('what crashes leave in uploads/ is removed by the purge, and an empty repository row by GC', async () => {
    const uploads = join(server.dataDir, 'uploads');
    const stray = ['0b0b0b0b-1111-4222-8333-444455556666', 'put-sha256-abcdef-123-456'];
    for (const name of stray) {
      writeFileSync(join(uploads, name), 'left by a crash');
      utimesSync(join(uploads, name), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    }
    await until(() => stray.every((n) => !existsSync(join(uploads, n))), 'the purge to remove the leftovers');

    const loc = await api.startUpload('ghost/never');
    assert.equal((await api.fetch(loc, { method: 'DELETE' })).status, 204);
    const gc = await berth(['gc', '--data', server.dataDir, '--json'], { BERTH_GC_GRACE: '0' });
    assert.equal(gc.code, 0, gc.stderr);
    assert.ok((JSON.parse(gc.stdout) as { repositoriesRemoved: number }).repositoriesRemoved >= 1);
  });

  test('fsck reports upload leftovers and --repair removes them', async () => {
    const dir = tempDir('berth-fsck-leftovers-');
    const quiet = await startBerth({ dataDir: dir });
    await quiet.stop();
    const leftover = join(dir, 'uploads', '0c0c0c0c-1111-4222-8333-444455556666');
    writeFileSync(leftover, '');
    utimesSync(leftover, new Date(Date.now() - 7200_000), new Date(Date.now() - 7200_000));
    const found = await berth(['fsck', '--data', dir], {});
    assert.equal(found.code, 6, "integrity findings exit 6, per the table in docs/CLIENT.md");
    assert.match(found.stdout, /leftover uploads\/0c0c0c0c-.*: the bytes of an upload session that no longer exists/);
    assert.equal((await berth(['fsck', '--data', dir, '--repair'], {})).code, 0);
    assert.ok(!existsSync(leftover));
  });

  test('the metadata database deleted under a running server: writes refused, not ready, reads go on', async () => {
    const dir = tempDir('berth-dbgone-');
    const victim = await startBerth({ dataDir: dir });
    try {
      const v = new Raw(victim.url);
      const config = imageConfig();
      const layer = randomBlob(300, 0.5);
      await v.pushImage('kept/app', 'v1', [config, layer], imageManifest(config, [layer]));
      rmSync(join(dir, 'berth.db'));
      const push = await v.fetch('/v2/lost/app/blobs/uploads/', { method: 'POST' });
      assert.equal(push.status, 503);
      const error = ((await push.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
      assert.equal(error.code, 'UNAVAILABLE');
      assert.match(error.message, /the metadata database .*berth\.db was deleted while the server runs/);
      const ready = await v.fetch('/readyz');
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /was deleted/);
      assert.equal((await v.fetch('/v2/kept/app/manifests/v1')).status, 200, 'reads are still served');
      assert.ok(victim.logs.some((l) => l.level === 50 && String(l.msg).startsWith('NOT READY')));
    } finally {
      await victim.stop();
    }
  });

  test('an unwritable SQLite -shm file stops the start with its name (instead of SIGBUS)', { skip: !isRoot && 'needs root to run berth as another user' }, async () => {
    const dir = tempDir('berth-shm-');
    const quiet = await startBerth({ dataDir: dir });
    await quiet.stop();
    writeFileSync(join(dir, 'berth.db-shm'), Buffer.alloc(32768));
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
    for (const entry of ['', 'berth.db', 'blobs', 'uploads', ...readdirSync(join(dir, 'blobs')).map((d) => join('blobs', d))]) chownSync(join(dir, entry), nobody, nobody);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BERTH_BIN, 'serve', '--data', dir, '--addr', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.equal(r.signal, null, 'no SIGBUS');
    assert.match(r.stderr, /berth\.db-shm is not writable by this user/);
  });
});

describe('a full disk', { skip: !isRoot && 'needs root to mount a small tmpfs' }, () => {
  let mount: string;
  let server: BerthServer;
  let api: Raw;

  before(async () => {
    mount = tempDir('berth-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
    server = await startBerth({ dataDir: join(mount, 'data'), config: 'storage:\n  filesystem:\n    minFree: 4MiB\n' });
    api = new Raw(server.url);
  });
  after(async () => {
    await server?.stop();
    execFileSync('umount', [mount]);
  });

  test('a push that does not fit is 507 and leaves nothing; below minFree pushes are refused and /readyz says why; it recovers alone', async () => {
    const fits = randomBlob(4 << 20, 0.61);
    assert.equal((await api.pushBlob('full/app', fits)).status, 201);
    const tooBig = randomBlob(22 << 20, 0.62);
    const r = await api.pushBlob('full/app', tooBig);
    assert.equal(r.status, 507);
    assert.match(((await r.json()) as { errors: { message: string }[] }).errors[0]!.message, /storage is full/);
    assert.deepEqual(readdirSync(join(server.dataDir, 'uploads')), [], 'the partial bytes are gone');

    const filler = join(mount, 'filler');
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${filler} bs=1M count=17 2>/dev/null || true`]);
    await until(async () => (await api.fetch('/readyz')).status === 503, 'not ready while space is low');
    const ready = (await (await api.fetch('/readyz')).json()) as { problems: { check: string; message: string }[] };
    assert.equal(ready.problems[0]!.check, 'disk');
    const refused = await api.pushBlob('full/app', randomBlob(1000, 0.63));
    assert.equal(refused.status, 507, 'refused before writing');
    assert.equal((await api.fetch(`/v2/full/app/blobs/${fits.digest}`)).status, 200, 'reads go on');

    rmSync(filler);
    await until(async () => (await api.fetch('/readyz')).status === 200, 'ready again');
    assert.equal((await api.pushBlob('full/app', randomBlob(2 << 20, 0.64))).status, 201);
    const fsck = await berth(['fsck', '--data', server.dataDir], {});
    assert.equal(fsck.code, 0, `nothing stored was damaged:\n${fsck.stdout}`);
  });
});

describe('an S3 bucket that stops answering', () => {
  let s3: S3Server;
  let bucket: FaultProxy;
  let server: BerthServer;
  let api: Raw;
  /** Without a timeout of Berth's own, these requests would wait for as long as the bucket hangs. */
  const patience = () => AbortSignal.timeout(60_000);

  before(async () => {
    s3 = await startS3();
    bucket = await FaultProxy.start(s3.endpoint);
    server = await startBerth({
      env: {
        BERTH_STORAGE_S3_BUCKET: s3.bucket,
        BERTH_STORAGE_S3_ENDPOINT: bucket.url,
        BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
        BERTH_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
        BERTH_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        BERTH_STORAGE_S3_TIMEOUT: '1',
      },
    });
    api = new Raw(server.url);
  });
  after(async () => {
    await server?.stop();
    await bucket?.stop();
    await s3?.stop();
  });

  test('pulls and pushes get a 503 that names the bucket, nothing is lost, and it recovers', async () => {
    const kept = randomBlob(20_000, 0.51);
    const later = randomBlob(20_000, 0.52);
    assert.equal((await api.pushBlob('s3faults/app', kept)).status, 201);

    bucket.inject(/./, { kind: 'hang' });
    const pull = await api.fetch(`/v2/s3faults/app/blobs/${kept.digest}`, { signal: patience() });
    assert.equal(pull.status, 503);
    const body = (await pull.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
    assert.match(body.errors[0]!.message, new RegExp(`S3 at ${bucket.url} did not answer within 1 s`));
    assert.ok(pull.headers.get('retry-after'), 'a client is told when to retry');
    const push = await api.fetch(`/v2/s3faults/app/blobs/uploads/?digest=${later.digest}`, {
      method: 'POST',
      body: later.bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
      signal: patience(),
    });
    assert.equal(push.status, 503);
    assert.equal(await errorCode(push), 'UNAVAILABLE');

    bucket.clearFaults();
    const again = await api.fetch(`/v2/s3faults/app/blobs/${kept.digest}`);
    assert.equal(again.status, 200);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(kept.bytes), 'the blob pushed before the outage is whole');
    assert.equal((await api.fetch(`/v2/s3faults/app/blobs/${later.digest}`, { method: 'HEAD' })).status, 404, 'the refused push left no blob behind');
    assert.equal((await api.pushBlob('s3faults/app', later)).status, 201);
    const pushed = await api.fetch(`/v2/s3faults/app/blobs/${later.digest}`);
    assert.ok(Buffer.from(await pushed.arrayBuffer()).equals(later.bytes));
  });
});
