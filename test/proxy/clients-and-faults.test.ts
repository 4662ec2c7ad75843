import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { basic } from '../auth/helpers.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { freePort, startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { randomBlob, sha256 } from '../helpers/oci.js';
import { pullBlob, rawPull } from '../helpers/pull.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { readThenStall } from '../helpers/stalled-reader.js';
import { setTimeout as sleep } from 'node:timers/promises';

const skip = missingTools('docker-registry', 'htpasswd', 'skopeo', 'podman', 'containerd', 'ctr', 'unshare') ?? (process.getuid?.() === 0 ? undefined : 'containerd needs root here');
const UP_USER = 'cache';
const UP_PASSWORD = 'distribution-pw';
const upstreamAuth = basic(UP_USER, UP_PASSWORD);

interface OciError {
  errors: { code: string; message: string }[];
}

describe('pull-through cache in front of CNCF Distribution with htpasswd: real clients, and an upstream that misbehaves', { skip }, () => {
  let dist: Distribution;
  let fault: FaultProxy;
  let cache: BerthServer;
  let containerd: Containerd;
  const tools = new Tools();
  const src = tempDir('berth-proxy-src-');
  const images: Record<string, BuiltImage> = {};

  async function publish(tag: string, repo: string, layers: Record<string, Buffer | string>[]): Promise<BuiltImage> {
    const img = await writeLayoutImage(src, tag, layers);
    await tools.skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `${UP_USER}:${UP_PASSWORD}`, `oci:${src}:${tag}`, `docker://${dist.host}/${repo}`);
    return img;
  }
  const blobGets = (repo: string, digest: string) => fault.count(new RegExp(`^GET /v2/${repo}/blobs/${digest}$`));
  const manifestVia = async (repo: string) => {
    const m = await fetch(`${cache.url}/v2/docker.io/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(m.status, 200);
    await m.arrayBuffer();
  };
  const errorOf = async (r: Response) => ((await r.json()) as OciError).errors[0]!;

  before(async () => {
    dist = await startDistribution({ users: { [UP_USER]: UP_PASSWORD } });
    fault = await FaultProxy.start(dist.url);
    // The cache's own address is chosen up front, so one upstream can point at it. Two processes serve it: loop detection must hold for the registry, not one process.
    const port = await freePort();
    const entry = (namespace: string, url: string) => `    - { namespace: ${namespace}, url: "${url}", credentials: { username: ${UP_USER}, password: ${UP_PASSWORD} } }`;
    cache = await startBerth({
      args: ['--addr', `127.0.0.1:${port}`, '--workers', '2'],
      config: [
        'limits: { maxManifestSize: 64KiB }',
        'http: { sendIdleTimeout: 1s }',
        'proxy:',
        '  upstreams:',
        entry('docker.io', fault.url),
        entry('quay.io', fault.url),
        entry('self.test', `http://127.0.0.1:${port}`),
        '    - { namespace: nowhere.invalid, url: "http://registry.nowhere.invalid" }',
        '',
      ].join('\n'),
    });
    containerd = await startContainerd();
    images.app = await publish('app', 'library/app:v1', [{ 'etc/os-release': 'ID=app\n' }, { 'usr/lib/big': randomBlob(400_000, 0.6).bytes }]);
    images.faulty = await publish('faulty', 'org/faulty:v1', [{ 'f': randomBlob(200_000, 0.7).bytes }]);
    images.cut = await publish('cut', 'org/cut:v1', [{ 'c': randomBlob(300_000, 0.8).bytes }]);
    images.tampered = await publish('tampered', 'org/tampered:v1', [{ 't': 'tampered\n' }]);
    // Larger than every buffer between the upstream and the client (the fill's, the response's, loopback's): a client that stops reading leaves most of it unsent.
    images.hangup = await publish('hangup', 'org/hangup:v1', [{ 'h': randomBlob(64 << 20, 0.9).bytes }]);
    images.stuck = await publish('stuck', 'org/stuck:v1', [{ 's': randomBlob(64 << 20, 0.91).bytes }]);
    images.slow = await publish('slow', 'org/slow:v1', [{ 's': randomBlob(3 << 20, 0.92).bytes }]);
    // A manifest over the cache's 64 KiB limit (Distribution takes up to 4 MiB): the app image with a long annotation.
    const big = { ...(JSON.parse(images.app.manifest.toString()) as object), annotations: { 'org.example.notes': 'x'.repeat(100_000) } };
    const put = await fetch(`${dist.url}/v2/library/app/manifests/big`, {
      method: 'PUT',
      headers: { ...upstreamAuth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify(big),
    });
    assert.equal(put.status, 201, await put.text());
  });
  after(async () => {
    await containerd?.stop();
    await cache?.stop();
    await fault?.stop();
    await dist?.stop();
  });

  test('podman through a registries.conf mirror (the path prefix) gets the digest Distribution serves directly', async () => {
    const conf = join(tools.dir, 'registries.conf');
    writeFileSync(conf, `[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "${cache.host}/docker.io"\ninsecure = true\n`);
    const env = { CONTAINERS_REGISTRIES_CONF: conf };
    await tools.must('podman', [...tools.storageFlags('podman'), 'pull', '-q', 'docker.io/library/app:v1'], { env });
    const digest = (await tools.must('podman', [...tools.storageFlags('podman'), 'image', 'inspect', '--format', '{{.Digest}}', 'docker.io/library/app:v1'], { env })).trim();
    const direct = await rawPull(dist.url, 'library/app', 'v1', upstreamAuth);
    assert.equal(digest, direct.digest);
    assert.ok(cache.logs.some((l) => l.path === '/v2/docker.io/library/app/manifests/v1'), 'podman asked the cache, under the prefix');
  });

  test('containerd ctr through a hosts.toml mirror (the ?ns= form) gets every blob intact, cached under quay.io/', async () => {
    const hosts = tempDir('berth-hosts-');
    mkdirSync(join(hosts, 'quay.io'));
    writeFileSync(join(hosts, 'quay.io', 'hosts.toml'), `server = "https://quay.io"\n\n[host."http://${cache.host}"]\n  capabilities = ["pull", "resolve"]\n`);
    fault.reset();
    await containerd.ctr('images', 'pull', '--hosts-dir', hosts, 'quay.io/library/app:v1');
    const img = images.app!;
    for (const d of [img.manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)]) assert.equal(sha256(await containerd.content(d)), d);
    assert.ok(cache.logs.some((l) => l.path === '/v2/library/app/manifests/v1'), 'ctr sent the upstream name, with ?ns=quay.io');
    const tags = await (await fetch(`${cache.url}/v2/quay.io/library/app/tags/list`)).json();
    assert.deepEqual(tags, { name: 'quay.io/library/app', tags: ['v1'] });
    // quay.io/ and docker.io/ are separate caches of one upstream: the manifest was fetched again for this one, the blobs were not.
    assert.equal(fault.count(/^GET \/v2\/library\/app\/manifests\/v1$/, 200), 1, fault.requests().join('\n'));
    assert.equal(fault.count(/\/blobs\//), 0, 'the blobs docker.io/library/app holds already');
  });

  test('berth pull with the path prefix: the same digest as pulling Distribution directly', async () => {
    const home = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') };
    const viaCache = await berth(['pull', '--json', `${cache.host}/docker.io/library/app:v1`], home);
    assert.equal(viaCache.code, 0, viaCache.stderr);
    assert.equal((JSON.parse(viaCache.stdout) as { digest: string }).digest, images.app!.manifestDigest);
  });

  test('a blob whose bytes do not match its digest: the client gets an error, nothing is cached, the next pull fetches it again', async () => {
    const img = images.faulty!;
    const bad = img.layers[0]!.digest;
    fault.inject(new RegExp(`^GET /v2/org/faulty/blobs/${bad}$`), { kind: 'corrupt-body' }, 1);
    fault.reset();
    const m = await fetch(`${cache.url}/v2/docker.io/org/faulty/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(m.status, 200);
    await m.arrayBuffer();
    await assert.rejects(
      pullBlob(cache.url, 'docker.io/org/faulty', bad),
      (e: Error) => /terminated|other side closed|socket/i.test(`${e.message} ${String((e as { cause?: unknown }).cause)}`),
      'the body does not arrive as a complete, wrong blob',
    );
    await until(() => cache.logs.some((l) => l.msg === 'blob not cached' && l.digest === bad && /hash|digest/i.test(String(l.reason))), 'a log line saying why');
    assert.equal((await pullBlob(cache.url, 'docker.io/org/faulty', bad)).length, img.layers[0]!.size, 'the next pull gets the real bytes');
    assert.equal(blobGets('org/faulty', bad), 2, 'fetched again, since nothing was kept the first time');
  });

  test('an upstream that drops the connection mid-blob: the cache resumes with Range and the client gets the whole blob', async () => {
    const img = images.cut!;
    const layer = img.layers[0]!.digest;
    fault.inject(new RegExp(`^GET /v2/org/cut/blobs/${layer}$`), { kind: 'drop-mid-body' }, 1);
    fault.reset();
    const pulled = await rawPull(cache.url, 'docker.io/org/cut', 'v1');
    assert.equal(pulled.digest, img.manifestDigest);
    assert.equal(blobGets('org/cut', layer), 2, 'the first GET cut halfway, the second resumed');
    fault.reset();
    await pullBlob(cache.url, 'docker.io/org/cut', layer);
    assert.equal(fault.requests().length, 0, 'and then it is cached');
  });

  // A stalled fill would hold the second pull for proxy.waitTimeout (5 min): the test fails within its own 60 s instead.
  test('a client that hangs up mid-blob: the fill goes on, and the next pull gets the blob from the cache, byte for byte', { timeout: 60_000 }, async () => {
    const img = images.hangup!;
    const layer = img.layers[0]!;
    await manifestVia('org/hangup');
    fault.reset();
    const stalled = await readThenStall(`${cache.url}/v2/docker.io/org/hangup/blobs/${layer.digest}`);
    // Long enough for every buffer on the way to fill, so the fill is waiting on this client when it hangs up.
    await sleep(300);
    stalled.hangUp();
    assert.ok(stalled.first < layer.size, 'the client has only the start of the blob when it hangs up');
    // A second pull waits for the fill the first one started (one fetch per blob), then reads what it stored.
    const pulled = await pullBlob(cache.url, 'docker.io/org/hangup', layer.digest);
    assert.equal(pulled.length, layer.size);
    assert.equal(sha256(pulled), layer.digest);
    // 200s only: a worker process that has not talked to the upstream yet is challenged (401) first.
    const served = fault.count(new RegExp(`^GET /v2/org/hangup/blobs/${layer.digest}$`), 200);
    assert.equal(served, 1, `the upstream served the blob once: the hang-up did not stop or restart the fill\n${fault.requests().join('\n')}`);
  });

  // Without the send watchdog the fill waits on the stuck client and the second pull for proxy.waitTimeout (5 min): the test fails within its own 60 s instead.
  test('a client that stops reading mid-blob but keeps its connection: cut off after http.sendIdleTimeout, the fill goes on, the next pull gets the blob', { timeout: 60_000 }, async () => {
    const layer = images.stuck!.layers[0]!;
    await manifestVia('org/stuck');
    fault.reset();
    const stuck = await readThenStall(`${cache.url}/v2/docker.io/org/stuck/blobs/${layer.digest}`);
    const pulled = await pullBlob(cache.url, 'docker.io/org/stuck', layer.digest);
    assert.equal(sha256(pulled), layer.digest);
    const cut = () => cache.logs.find((l) => l.msg === 'blob body cut short: the client stopped reading');
    await until(() => cut() !== undefined, 'the log line saying the stuck client was cut off');
    assert.equal(cut()!.reason, 'the client took nothing of the response for 1 s');
    const rest = await stuck.resume();
    assert.equal(rest.complete, false, 'the stuck client sees its body cut short, not a whole blob');
    assert.ok(rest.received < layer.size, `the stuck client got ${rest.received} of ${layer.size} bytes`);
    assert.equal(fault.count(new RegExp(`^GET /v2/org/stuck/blobs/${layer.digest}$`), 200), 1, 'the upstream served the blob once');
  });

  test('an upstream that goes quiet mid-blob for longer than http.sendIdleTimeout: the client waiting on it is not cut off', async (t) => {
    t.after(() => fault.clearFaults());
    const layer = images.slow!.layers[0]!;
    await manifestVia('org/slow');
    fault.inject(new RegExp(`^GET /v2/org/slow/blobs/${layer.digest}$`), { kind: 'pause-mid-body', ms: 2500 });
    fault.reset();
    const pulled = await pullBlob(cache.url, 'docker.io/org/slow', layer.digest);
    assert.equal(pulled.length, layer.size);
    assert.equal(sha256(pulled), layer.digest);
    assert.equal(fault.count(new RegExp(`^GET /v2/org/slow/blobs/${layer.digest}$`), 200), 1, 'one fetch: the quiet upstream was waited for, not retried');
  });

  test('a manifest whose bytes do not match its digest: 502 naming the upstream, nothing cached, the next pull fetches it again', async () => {
    const img = images.tampered!;
    const byDigest = `/v2/docker.io/org/tampered/manifests/${img.manifestDigest}`;
    fault.inject(/^GET \/v2\/org\/tampered\/manifests\//, { kind: 'tamper-manifest' }, 2);
    fault.reset();
    // By tag the upstream names the digest in Docker-Content-Digest; by digest the request does.
    for (const path of ['/v2/docker.io/org/tampered/manifests/v1', byDigest]) {
      const r = await fetch(`${cache.url}${path}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 502, path);
      const e = await errorOf(r);
      assert.equal(e.code, 'DIGEST_INVALID');
      assert.match(e.message, new RegExp(`^upstream docker\\.io \\(http://127\\.0\\.0\\.1:\\d+\\) served manifest org/tampered[:@]\\S+ as bytes that hash to sha256:[0-9a-f]{64}, not ${img.manifestDigest}; nothing was cached$`));
    }
    const good = await fetch(`${cache.url}${byDigest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(good.status, 200);
    assert.deepEqual(Buffer.from(await good.arrayBuffer()), img.manifest, 'the bytes the upstream holds');
    assert.equal(fault.count(new RegExp(`^GET /v2/org/tampered/manifests/${img.manifestDigest}$`)), 2, 'fetched again, since the tampered bytes were not kept');
    assert.equal((await rawPull(cache.url, 'docker.io/org/tampered', 'v1')).digest, img.manifestDigest, 'and the tag then pulls');
  });

  test('an upstream whose host name does not resolve: 503 saying so, naming the upstream', async () => {
    const r = await fetch(`${cache.url}/v2/nowhere.invalid/library/app/manifests/v1`);
    assert.equal(r.status, 503);
    const e = await errorOf(r);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /^upstream nowhere\.invalid \(http:\/\/registry\.nowhere\.invalid\) cannot be reached for fetch manifest library\/app:v1: .*the host name registry\.nowhere\.invalid does not resolve/);
  });

  test('a manifest over limits.maxManifestSize is refused with the limit named, and not cached', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${cache.url}/v2/docker.io/library/app/manifests/big`);
      assert.equal(r.status, 502);
      const e = await errorOf(r);
      assert.equal(e.code, 'MANIFEST_INVALID');
      assert.match(e.message, /larger than the 65536 bytes .*limits\.maxManifestSize.*nothing was cached/);
    }
    const tags = (await (await fetch(`${cache.url}/v2/docker.io/library/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1']);
  });

  test('an upstream that redirects in circles gets a 502 saying so, not a hang', async () => {
    fault.inject(/^GET \/v2\/org\/loop\/manifests\/v1$/, { kind: 'redirect-loop' });
    const r = await fetch(`${cache.url}/v2/docker.io/org/loop/manifests/v1`);
    assert.equal(r.status, 502);
    assert.match((await errorOf(r)).message, /upstream docker\.io \(http:\/\/127\.0\.0\.1:\d+\) redirects in circles for fetch manifest org\/loop:v1; nothing was cached/);
    fault.clearFaults();
  });

  test('a blob that redirects in circles: the client gets an error, the log says why, nothing is cached', async () => {
    // Blobs come through another HTTP path than manifests (a Node stream): its redirects are followed, and a loop is refused, the same way.
    const config = images.faulty!.configDigest;
    const m = await fetch(`${cache.url}/v2/docker.io/org/faulty/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(m.status, 200);
    await m.arrayBuffer();
    fault.inject(new RegExp(`^GET /v2/org/faulty/blobs/${config}$`), { kind: 'redirect-loop' });
    // Its own connection: the cache may close the one an errored blob went over, and the next pull must not reuse it.
    await assert.rejects(pullBlob(cache.url, 'docker.io/org/faulty', config, { Connection: 'close' }));
    await until(() => cache.logs.some((l) => l.msg === 'blob not cached' && l.digest === config && /redirects in circles for fetch blob/.test(String(l.reason))), 'a log line saying why');
    fault.clearFaults();
    fault.reset();
    await pullBlob(cache.url, 'docker.io/org/faulty', config);
    assert.equal(blobGets('org/faulty', config), 1, 'the next pull fetches it, since nothing was kept');
  });

  test('an upstream url that leads back to the cache itself is refused at once, naming the config to fix, whichever worker process it reaches', async () => {
    const tags = ['v1', 'v2', 'v3', 'v4'];
    for (const tag of tags) {
      // A connection of its own each time, so the requests (and the ones sent back) spread over both processes.
      const r = await fetch(`${cache.url}/v2/self.test/library/app/manifests/${tag}`, { headers: { Connection: 'close' } });
      assert.equal(r.status, 502, tag);
      assert.match((await errorOf(r)).message, /upstream self\.test \(http:\/\/127\.0\.0\.1:\d+\) leads back to this registry \(a proxy loop\): fix its url in proxy\.upstreams/);
    }
    // After the first, a process leaves the upstream alone for a moment (as after any failure): fewer requests may go round.
    const cameBack = () => cache.logs.filter((l) => /^\/v2\/library\/app\/manifests\/v\d$/.test(String(l.path)) && l.status === 508);
    await until(() => cameBack().length > 0, 'a hop that came back, in the log');
    assert.ok(cameBack().length <= tags.length, 'each came back at most once, and stopped there');
  });
});
