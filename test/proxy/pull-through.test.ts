import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { htpasswdFile, basic } from '../auth/helpers.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { randomBlob } from '../helpers/oci.js';
import { rawPull } from '../helpers/pull.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const skip = missingTools('skopeo', 'htpasswd');
/** The upstream's password for the cache: it must never reach a client of the cache, or its log. */
const UPSTREAM_SECRET = `up-${Math.random().toString(36).slice(2)}-secret`;
const PASSWORD = 'cache-pw';
const users = { puller: basic('puller', PASSWORD), dev: basic('dev', PASSWORD), admin: basic('admin', PASSWORD) };

describe('pull-through cache in front of a berth with token auth', { skip }, () => {
  let upstream: BerthServer;
  let fault: FaultProxy;
  let cache: BerthServer;
  const tools = new Tools();
  const src = tempDir('berth-proxy-src-');
  const images: Record<string, BuiltImage> = {};
  const answers: string[] = [];

  /** Pushes a layout image straight to the upstream, as its owner would. */
  async function publish(tag: string, repo: string, layers: Record<string, Buffer | string>[]): Promise<BuiltImage> {
    const img = await writeLayoutImage(src, tag, layers);
    await tools.skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `mirror:${UPSTREAM_SECRET}`, `oci:${src}:${tag}`, `docker://${upstream.host}/${repo}`);
    return img;
  }
  /** A raw request to the cache whose answer is kept for the leak check at the end. */
  async function ask(path: string, init: RequestInit = {}): Promise<Response> {
    const r = await fetch(`${cache.url}${path}`, init);
    answers.push(JSON.stringify(Object.fromEntries(r.headers)), await r.clone().text());
    return r;
  }
  const dockerConfig = (user: string): Record<string, string> => {
    const dir = tempDir('berth-dc-');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [cache.host]: { auth: Buffer.from(`${user}:${PASSWORD}`).toString('base64') } } }));
    return { DOCKER_CONFIG: dir, BERTH_HOME: tempDir('berth-home-') };
  };
  const upstreamGets = (repo: string) => fault.requests().filter((r) => r.includes(`/v2/${repo}/`));

  before(async () => {
    const upDir = tempDir('berth-upstream-');
    const upConfig = (dir: string) =>
      `auth:\n  htpasswd: ${htpasswdFile(dir, { mirror: UPSTREAM_SECRET })}\n  token: { issuer: upstream }\naccess:\n  - { repos: "**", users: [mirror], actions: [pull, push] }\n`;
    upstream = await startBerth({ dataDir: join(upDir, 'data'), config: upConfig(upDir) });
    fault = await FaultProxy.start(upstream.url);
    const cacheDir = tempDir('berth-cache-');
    const upstreamEntry = (namespace: string, ttl: string) =>
      `    - { namespace: ${namespace}, url: "${fault.url}", tagTtl: ${ttl}, credentials: { username: mirror, password: "${UPSTREAM_SECRET}" } }\n`;
    cache = await startBerth({
      dataDir: join(cacheDir, 'data'),
      config: [
        `auth: { htpasswd: ${htpasswdFile(cacheDir, { puller: PASSWORD, dev: PASSWORD, admin: PASSWORD })} }`,
        'access:',
        '  - { repos: "**", users: [admin], actions: [pull, push, usage] }',
        '  - { repos: "docker.io/**", users: [puller, dev], actions: [pull] }',
        '  - { repos: "quick.io/**", users: [puller], actions: [pull] }',
        '  - { repos: "team/**", users: [dev], actions: [pull, push] }',
        'proxy:',
        '  mirror: docker.io',
        '  upstreams:',
        upstreamEntry('docker.io', '1h') + upstreamEntry('quick.io', '1s'),
      ].join('\n'),
    });
    images.alpine = await publish('alpine', 'library/alpine:3', [{ 'etc/os-release': 'ID=alpine\n' }, { 'bin/busybox': randomBlob(300_000, 0.1).bytes }]);
    images.busybox = await publish('busybox', 'library/busybox:1', [{ 'a': randomBlob(200_000, 0.2).bytes }, { 'b': randomBlob(100_000, 0.3).bytes }, { 'c': 'c\n' }]);
    images.moving = await publish('moving-1', 'library/moving:v1', [{ base: randomBlob(50_000, 0.4).bytes }]);
    images.warm = await publish('warm', 'team/warm:v1', [{ 'w': randomBlob(80_000, 0.5).bytes }]);
    images.rare = await publish('rare', 'library/rare:v1', [{ 'r': 'rare\n' }]);
  });
  after(async () => {
    await cache?.stop();
    await fault?.stop();
    await upstream?.stop();
  });

  test('skopeo and berth pull through the path prefix get the upstream image, byte for byte', async () => {
    const out = join(tempDir('berth-proxy-out-'), 'layout');
    await tools.skopeo('copy', '--src-tls-verify=false', '--src-creds', `puller:${PASSWORD}`, `docker://${cache.host}/docker.io/library/alpine:3`, `oci:${out}:3`);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, images.alpine!.manifestDigest, 'the digest the upstream has');
    for (const d of [images.alpine!.configDigest, ...images.alpine!.layers.map((l) => l.digest)]) {
      assert.deepEqual(readFileSync(join(out, 'blobs', 'sha256', d.slice(7))), readFileSync(join(src, 'blobs', 'sha256', d.slice(7))));
    }
    // Docker Hub's naming: docker.io/alpine is docker.io/library/alpine, as `docker pull alpine` means.
    const pulled = await berth(['pull', '--json', `${cache.host}/docker.io/alpine:3`], dockerConfig('puller'));
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal((JSON.parse(pulled.stdout) as { digest: string }).digest, images.alpine!.manifestDigest);
    assert.deepEqual(upstreamGets('library/alpine').filter((r) => r.startsWith('GET') && r.includes('/blobs/')).length, 1 + images.alpine!.layers.length, 'the config and each layer fetched once for both pulls');
  });

  test('20 concurrent pulls of an uncached image: one upstream fetch for the manifest and for each blob', async () => {
    fault.reset();
    const pulls = await Promise.all(Array.from({ length: 20 }, () => rawPull(cache.url, 'docker.io/library/busybox', '1', users.puller)));
    const img = images.busybox!;
    for (const p of pulls) assert.deepEqual(p, { digest: img.manifestDigest, blobs: [img.configDigest, ...img.layers.map((l) => l.digest)] });
    assert.deepEqual(
      upstreamGets('library/busybox').sort(),
      ['GET /v2/library/busybox/manifests/1', ...[img.configDigest, ...img.layers.map((l) => l.digest)].map((d) => `GET /v2/library/busybox/blobs/${d}`)].sort(),
    );
  });

  test('a second pull within the tag TTL sends nothing upstream', async () => {
    fault.reset();
    await rawPull(cache.url, 'docker.io/library/busybox', '1', users.puller);
    assert.deepEqual(fault.requests(), []);
  });

  test('after the TTL one HEAD confirms the tag; a moved tag costs the new manifest and only its new blobs', async () => {
    const first = await rawPull(cache.url, 'quick.io/library/moving', 'v1', users.puller);
    assert.equal(first.digest, images.moving!.manifestDigest);
    await sleep(1100);
    fault.reset();
    await rawPull(cache.url, 'quick.io/library/moving', 'v1', users.puller);
    assert.deepEqual(fault.requests(), ['HEAD /v2/library/moving/manifests/v1']);

    const moved = await publish('moving-2', 'library/moving:v1', [{ base: randomBlob(50_000, 0.4).bytes }, { top: 'v2\n' }]);
    await sleep(1100);
    fault.reset();
    const second = await rawPull(cache.url, 'quick.io/library/moving', 'v1', users.puller);
    assert.equal(second.digest, moved.manifestDigest);
    assert.deepEqual(fault.requests().sort(), [
      'HEAD /v2/library/moving/manifests/v1',
      `GET /v2/library/moving/manifests/${moved.manifestDigest}`,
      `GET /v2/library/moving/blobs/${moved.configDigest}`,
      `GET /v2/library/moving/blobs/${moved.layers[1]!.digest}`,
    ].sort(), 'the shared base layer is not fetched again');
  });

  test("Docker's registry-mirrors form (/v2/library/...) and local repositories beside the cache", async () => {
    fault.reset();
    const viaMirror = await rawPull(cache.url, 'library/busybox', '1', users.puller);
    assert.equal(viaMirror.digest, images.busybox!.manifestDigest);
    assert.deepEqual(fault.requests(), [], 'the same cached repository as docker.io/library/busybox');

    await tools.skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${src}:warm`, `docker://${cache.host}/team/app:v1`);
    const local = await rawPull(cache.url, 'team/app', 'v1', users.dev);
    assert.equal(local.digest, images.warm!.manifestDigest);
    assert.deepEqual(fault.requests(), [], 'a local repository never goes upstream, with the mirror form configured or not');
  });

  test('pushing into a cached namespace is refused, saying why', async () => {
    const r = await ask('/v2/docker.io/library/alpine/blobs/uploads/', { method: 'POST', headers: users.admin });
    assert.equal(r.status, 403);
    const body = (await r.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /pull-through cache of docker\.io \(http:\/\/127\.0\.0\.1:\d+\)/);
    const manifest = await ask('/v2/docker.io/library/alpine/manifests/evil', { method: 'PUT', headers: { ...users.admin, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: images.alpine!.manifest as unknown as BodyInit });
    assert.equal(manifest.status, 403);
    const tags = (await (await ask('/v2/docker.io/library/alpine/tags/list', { headers: users.admin })).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['3']);
  });

  test('the access policy applies to cached repositories under their stored names', async () => {
    assert.equal((await ask('/v2/docker.io/library/busybox/manifests/1')).status, 401, 'anonymous');
    assert.equal((await ask('/v2/quick.io/library/moving/manifests/v1', { headers: users.dev })).status, 403, 'dev may not pull quick.io/**');
    assert.equal((await ask('/v2/library/busybox/manifests/1', { headers: basic('dev', 'wrong') })).status, 401);
    // Whoever asks the cache, the upstream only ever sees the cache's own credentials.
    assert.deepEqual(fault.basicUsers(), ['mirror']);
  });

  test('berth proxy warm pulls an image through; usage shows what each upstream holds and what the cache saved', async () => {
    fault.reset();
    const warm = await berth(['proxy', 'warm', '--registry', cache.host, 'docker.io/team/warm:v1'], dockerConfig('puller'));
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(warm.stdout, new RegExp(`docker.io/team/warm:v1: ${images.warm!.manifestDigest} cached \\(2 blobs`));
    assert.equal(upstreamGets('team/warm').length, 3, 'the manifest and both blobs');

    const usage = async () => JSON.parse((await berth(['usage', '--json', '--registry', cache.host], dockerConfig('admin'))).stdout) as { cache: { namespace: string; hits: number; upstreamRequests: number; repositories: number; storedBytes: number }[] };
    const before = (await usage()).cache.find((c) => c.namespace === 'docker.io')!;
    await rawPull(cache.url, 'docker.io/library/busybox', '1', users.puller);
    const after = (await usage()).cache.find((c) => c.namespace === 'docker.io')!;
    assert.equal(after.hits - before.hits, 5, 'the manifest, the config and three layers, answered from the cache');
    assert.equal(after.upstreamRequests, before.upstreamRequests);
    assert.equal(after.repositories, 3, 'library/alpine, library/busybox, team/warm');
    const held = new Set(['alpine', 'busybox', 'warm'].flatMap((n) => [images[n]!.manifestDigest, images[n]!.configDigest, ...images[n]!.layers.map((l) => l.digest)]));
    const bytes = [...held].reduce((sum, d) => sum + statSync(join(src, 'blobs', 'sha256', d.slice(7))).size, 0);
    assert.equal(after.storedBytes, bytes, 'their manifests, configs and layers, each counted once');
  });

  test('an upstream answering 503 or 429: cached tags still pull (stale ones with a Warning), uncached ones get the reason', async () => {
    fault.inject(/ \/v2\//, { kind: 'status', status: 503 });
    const unavailable = await ask('/v2/docker.io/library/rare/manifests/v1', { headers: users.puller });
    assert.equal(unavailable.status, 503);
    assert.match(((await unavailable.json()) as { errors: { message: string }[] }).errors[0]!.message, /upstream docker\.io \(http:\/\/127\.0\.0\.1:\d+\) failed manifest library\/rare:v1 \(HTTP 503/);
    await sleep(2100); // the upstream is left alone for two seconds after an outage
    fault.clearFaults();
    fault.inject(/ \/v2\//, { kind: 'status', status: 429, headers: { 'Retry-After': '2', 'RateLimit-Limit': '100;w=21600', 'RateLimit-Remaining': '0;w=21600' } });
    await rawPull(cache.url, 'docker.io/library/busybox', '1', users.puller);
    const stale = await ask('/v2/quick.io/library/moving/manifests/v1', { headers: { ...users.puller, Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(stale.status, 200);
    assert.match(stale.headers.get('warning') ?? '', /^110 berth "Response is stale: upstream quick\.io .* could not confirm tag v1, last confirmed 20\d\d-/);
    await until(() => cache.logs.some((l) => l.msg === 'serving a cached tag its upstream could not confirm' && l.tag === 'v1'), 'a log line saying so');
    const limited = await ask('/v2/docker.io/library/rare/manifests/v1', { headers: users.puller });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    const message = ((await limited.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    assert.equal(message.code, 'TOOMANYREQUESTS');
    assert.match(message.message, /upstream docker\.io \(.*\) is rate limiting this registry until 20\d\d-\d\d-\d\dT[\d:.]+Z \(RateLimit-Limit 100;w=21600, RateLimit-Remaining 0;w=21600\)/);
    await sleep(2100);
    fault.clearFaults();
  });

  test('the upstream killed: cached and warmed images pull; an uncached one is refused naming the upstream', async () => {
    await upstream.stop();
    await fault.stop();
    assert.equal((await rawPull(cache.url, 'docker.io/library/busybox', '1', users.puller)).digest, images.busybox!.manifestDigest);
    assert.equal((await rawPull(cache.url, 'docker.io/team/warm', 'v1', users.puller)).digest, images.warm!.manifestDigest);
    const stale = await ask('/v2/quick.io/library/moving/manifests/v1', { headers: users.puller });
    assert.equal(stale.status, 200);
    assert.ok(stale.headers.get('warning'));
    const down = await ask('/v2/docker.io/library/rare/manifests/v1', { headers: users.puller });
    assert.equal(down.status, 503);
    assert.match(((await down.json()) as { errors: { message: string }[] }).errors[0]!.message, /upstream docker\.io \(http:\/\/127\.0\.0\.1:\d+\) cannot be reached for fetch manifest library\/rare:v1: .*ECONNREFUSED/);
  });

  test("the upstream's credentials never reached a client or the log", () => {
    const everything = [...answers, ...cache.logs.map((l) => JSON.stringify(l))].join('\n');
    assert.ok(!everything.includes(UPSTREAM_SECRET), 'the password');
    assert.ok(!everything.includes(Buffer.from(`mirror:${UPSTREAM_SECRET}`).toString('base64')), 'the Basic header');
  });
});
