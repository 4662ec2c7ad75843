import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { basic, bearer, getToken, htpasswdFile } from '../auth/helpers.js';
import { REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { imageConfig, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { freePort } from '../helpers/postgres.js';
import { Raw } from '../helpers/registry-client.js';
import { missingTools, run } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const skip = missingTools('prometheus', 'promtool', 'htpasswd');

/** Every value the `route` label may take: templates, never a repository name or digest. */
const ROUTES = new Set(['/v2/', '/v2/_catalog', '/v2/<name>/tags/list', '/v2/<name>/manifests/<reference>', '/v2/<name>/blobs/uploads/', '/v2/<name>/blobs/uploads/<uuid>', '/v2/<name>/blobs/<digest>', '/v2/<name>/referrers/<digest>', '/metrics']);

async function pushImage(api: Raw, repo: string, layer: Blob): Promise<Blob[]> {
  const config = imageConfig();
  const manifest = imageManifest(config, [layer]);
  await api.pushImage(repo, 'v1', [config, layer], manifest);
  return [config, layer, manifest];
}

/** The sample value of a series in a text exposition (the whole line must match). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: a real Prometheus reads them', { skip }, () => {
  let server: BerthServer;
  let api: Raw;
  let stored = 0;
  let prometheus: ChildProcess | undefined;

  before(async () => {
    server = await startBerth({ config: 'metrics:\n  storageInterval: 0s\n  gcDurations: true\n' });
    api = new Raw(server.url);
    const shared = randomBlob(5000);
    const seen = new Set<string>();
    for (const repo of ['team/alpha', 'team/beta', 'ops/gamma']) {
      for (const b of await pushImage(api, repo, repo === 'ops/gamma' ? randomBlob(3000) : shared)) {
        if (!seen.has(b.digest)) stored += b.bytes.length;
        seen.add(b.digest);
      }
    }
    for (let i = 0; i < 2; i++) assert.equal((await api.fetch('/v2/team/alpha/manifests/v1', { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
    assert.equal((await api.fetch(`/v2/team/alpha/blobs/${shared.digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await api.fetch(`/v2/ops/new/blobs/uploads/?mount=${shared.digest}&from=team/beta`, { method: 'POST' })).status, 201);
    assert.equal((await api.fetch('/v2/team/alpha/manifests/missing')).status, 404);
  });
  after(async () => {
    prometheus?.kill('SIGTERM');
    await server?.stop();
  });

  test('promtool check metrics accepts the exposition, and labels name routes, never repositories', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const r = await run('promtool', ['check', 'metrics'], { input: text });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '', 'no lint findings');
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!));
    for (const route of routes) assert.ok(ROUTES.has(route), `route label ${route}`);
    for (const name of ['team/alpha', 'ops/gamma', 'sha256:']) assert.ok(!text.includes(name), `${name} is in no label`);
  });

  test('the registry figures: pushes, pulls, mounts, caches, storage totals, Node.js', async () => {
    // The storage totals come from a worker thread; a scrape waits for them 2 s at most, which a loaded machine can exceed.
    let text = '';
    await until(async () => (text = await (await fetch(`${server.url}/metrics`)).text()).includes('\nberth_storage_repositories 3\n'), 'the storage totals');
    assert.equal(sample(text, 'berth_pushes_total{kind="manifest"}'), 3);
    assert.equal(sample(text, 'berth_pushes_total{kind="blob"}'), 6);
    assert.equal(sample(text, 'berth_pulls_total{kind="manifest"}'), 2);
    assert.equal(sample(text, 'berth_blob_mounts_total'), 1);
    assert.equal(sample(text, 'berth_http_requests_total{route="/v2/<name>/manifests/<reference>",method="GET",status="404"}'), 1);
    assert.equal(sample(text, 'berth_http_requests_total{route="/v2/<name>/blobs/<digest>",method="HEAD",status="200"}'), 1);
    assert.ok(sample(text, 'berth_cache_lookups_total{cache="tags",result="hit"}')! >= 1, 'the second GET by tag was a cache hit');
    assert.ok(sample(text, 'berth_http_received_bytes_total{route="/v2/<name>/blobs/uploads/"}')! >= 6000, 'upload bodies counted');
    // The manifest GETs: two by tag, one 404; a histogram's buckets add up to its count, never decreasing.
    const latency = 'berth_http_request_duration_seconds';
    const manifestGets = 'route="/v2/<name>/manifests/<reference>",method="GET"';
    assert.equal(sample(text, `${latency}_count{${manifestGets}}`), 3);
    const buckets = [...text.matchAll(new RegExp(`^${latency}_bucket\\{${manifestGets.replace(/[/<>]/g, '\\$&')},le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => Number(m[2]));
    assert.equal(buckets.length, 16, 'fifteen bounds and +Inf');
    assert.deepEqual([...buckets].sort((a, b) => a - b), buckets, 'cumulative');
    assert.equal(buckets.at(-1), 3);
    assert.ok(sample(text, `${latency}_sum{${manifestGets}}`)! > 0);
    assert.equal(sample(text, 'berth_http_requests_in_flight'), 1, 'the scrape itself');
    assert.equal(sample(text, 'berth_storage_repositories'), 3);
    assert.equal(sample(text, 'berth_storage_stored_bytes'), stored);
    assert.equal(sample(text, 'berth_uploads_open'), 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds')! >= 0);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    // Asked for with metrics.gcDurations; scrapes make garbage, so one of them soon sees a young collection counted.
    await until(async () => sample(await (await api.fetch('/metrics')).text(), 'nodejs_gc_duration_seconds_count{kind="minor"}')! > 0, 'a garbage collection counted');
  });

  test('the alert rules in docs/OPERATIONS.md pass promtool check rules and name only series berth serves', async () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/OPERATIONS.md'), 'utf8');
    const rules = /### Alert rules\n+```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(rules, 'the alert rules block');
    const file = join(tempDir('berth-rules-'), 'rules.yml');
    writeFileSync(file, rules);
    const r = await run('promtool', ['check', 'rules', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const [, name] of rules.matchAll(/\b((?:berth|nodejs)_[a-z0-9_]+?)(?:_bucket)?\b/g)) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is served`);
  });

  test('a Prometheus server scraping berth serve on loopback reads a counter back through its HTTP API after a push', async () => {
    const dir = tempDir('berth-prometheus-');
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: berth\n    static_configs: [{ targets: ["${server.host}"] }]\n`,
    );
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    await pushImage(api, 'team/delta', randomBlob(1000));
    const query = async (q: string): Promise<number | undefined> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
      if (!res?.ok) return undefined;
      const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
      const v = body.data.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };
    const deadline = Date.now() + 60_000;
    let value: number | undefined;
    while ((value = await query('berth_pushes_total{job="berth",kind="manifest"}')) !== 4) {
      if (Date.now() > deadline) assert.fail(`Prometheus still reads ${value}`);
      await sleep(250);
    }
    assert.equal(await query('up{job="berth"}'), 1);
  });
});

describe('metrics: a server on its defaults', () => {
  let server: BerthServer;
  let api: Raw;
  const scrape = async () => (await api.fetch('/metrics')).text();
  before(async () => {
    server = await startBerth();
    api = new Raw(server.url);
  });
  after(async () => server?.stop());

  test('each answer is counted once, also on a kept-alive connection: the bodies plus a header block each', async () => {
    const blob = randomBlob(100_000);
    assert.equal((await api.pushBlob('bytes/one', blob)).status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await (await api.fetch(`/v2/bytes/one/blobs/${blob.digest}`)).arrayBuffer()).byteLength, 100_000);
    assert.equal((await api.fetch(`/v2/bytes/one/blobs/${blob.digest}`, { method: 'HEAD' })).status, 200);
    const sent = sample(await scrape(), 'berth_http_sent_bytes_total{route="/v2/<name>/blobs/<digest>"}')!;
    assert.ok(sent >= 3 * 100_000 + 4 * 100, `three bodies and four header blocks, got ${sent}`);
    assert.ok(sent < 3 * 100_000 + 4 * 1000, `nothing counted twice, got ${sent}`);
  });

  test('a download still being sent is in flight through many answered requests, and one the client cut off is not', async () => {
    // Bigger than the socket buffers on both sides, so the answer cannot finish while the client does not read.
    const big = randomBlob(32 * 1024 * 1024);
    assert.equal((await api.pushBlob('big/one', big)).status, 201);
    const inFlight = async () => sample(await scrape(), 'berth_http_requests_in_flight');
    const download = request(`${server.url}/v2/big/one/blobs/${big.digest}`, { agent: false });
    const started = new Promise<IncomingMessage>((resolve, reject) => download.on('response', resolve).on('error', reject));
    download.end();
    (await started).pause();
    assert.equal(await inFlight(), 2, 'the scrape and the download');
    // More answered requests than the in-flight list holds before it is swept.
    for (let i = 0; i < 200; i++) assert.equal((await api.fetch(`/v2/big/one/blobs/${big.digest}`, { method: 'HEAD' })).status, 200);
    assert.equal(await inFlight(), 2, 'answered requests are gone, the download is not');
    download.destroy();
    await until(async () => (await inFlight()) === 1, 'the cut-off download to leave the gauge');
  });

  test('GC durations are off unless asked for (they cost throughput); heap and event-loop figures are there', async () => {
    const text = await scrape();
    assert.ok(sample(text, 'nodejs_heap_size_used_bytes')! > 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_p99_seconds')! >= 0);
    assert.ok(!text.includes('nodejs_gc_duration_seconds'), 'no GC histogram by default');
  });
});

describe('metrics: who may read them', { skip }, () => {
  let dir: string;
  let basicServer: BerthServer;
  let tokenServer: BerthServer;
  let metricsPort: number;

  before(async () => {
    dir = tempDir('berth-metrics-auth-');
    const htpasswd = htpasswdFile(dir, { alice: 'alice-pw', bob: 'bob-pw' });
    const access = 'access:\n  - { repos: "**", users: [alice], actions: [pull, metrics] }\n  - { repos: "team/**", users: [bob], actions: [pull, push] }\n';
    metricsPort = await freePort();
    [basicServer, tokenServer] = await Promise.all([
      startBerth({ config: `auth:\n  htpasswd: ${htpasswd}\n  loginLimit: { perUserAddress: 2, perAddress: 1000, window: 10m }\n${access}` }),
      startBerth({ config: `auth:\n  htpasswd: ${htpasswd}\n  token: { issuer: berth }\n${access}metrics:\n  addr: 127.0.0.1:${metricsPort}\n` }),
    ]);
  });
  after(async () => {
    await Promise.all([basicServer?.stop(), tokenServer?.stop()]);
  });

  test('on the main listener: metrics on every repository is needed; anonymous is asked to log in, others are refused', async () => {
    for (const path of ['/metrics', '/berth/v1/notifications']) {
      const anon = await fetch(`${basicServer.url}${path}`);
      assert.equal(anon.status, 401, path);
      assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic /);
      const bob = await fetch(`${basicServer.url}${path}`, { headers: basic('bob', 'bob-pw') });
      assert.equal(bob.status, 403, path);
      assert.equal(((await bob.json()) as { errors: { code: string }[] }).errors[0]!.code, 'DENIED');
      assert.equal((await fetch(`${basicServer.url}${path}`, { headers: basic('alice', 'alice-pw') })).status, 200, path);
    }
  });

  test('wrong passwords and refusals are counted', async () => {
    assert.equal((await fetch(`${basicServer.url}/v2/team/app/tags/list`, { headers: basic('bob', 'wrong') })).status, 401);
    const text = await (await fetch(`${basicServer.url}/metrics`, { headers: basic('alice', 'alice-pw') })).text();
    assert.ok(sample(text, 'berth_auth_failures_total{reason="password"}')! >= 1);
    assert.ok(sample(text, 'berth_auth_failures_total{reason="denied"}')! >= 2, 'bob was refused /metrics and the status');
  });

  test('logins refused by the failed-login limit are counted', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${basicServer.url}/v2/`, { headers: basic('carol', `guess${i}`) })).status, 401);
    assert.equal((await fetch(`${basicServer.url}/v2/`, { headers: basic('carol', 'guess2') })).status, 429);
    const text = await (await fetch(`${basicServer.url}/metrics`, { headers: basic('alice', 'alice-pw') })).text();
    assert.equal(sample(text, 'berth_login_rate_limited_total'), 1);
  });

  test('metrics.addr: /metrics alone on an address of its own, without authentication; not on the main listener', async () => {
    assert.equal((await fetch(`${tokenServer.url}/v2/`)).status, 401);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.equal(sample(text, 'berth_http_requests_total{route="/v2/",method="GET",status="401"}'), 1);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/v2/`)).status, 404, 'nothing else is served there');
    assert.equal((await fetch(`${tokenServer.url}/metrics`)).status, 404);
  });

  test('token mode: registry:metrics:* is granted only to users with metrics everywhere, and opens the notification status', async () => {
    const alice = await getToken(tokenServer.url, { user: 'alice', password: 'alice-pw', scopes: ['registry:metrics:*'] });
    assert.deepEqual(alice.access, [{ type: 'registry', name: 'metrics', actions: ['*'] }]);
    const bob = await getToken(tokenServer.url, { user: 'bob', password: 'bob-pw', scopes: ['registry:metrics:*'] });
    assert.deepEqual(bob.access, []);
    assert.equal((await fetch(`${tokenServer.url}/berth/v1/notifications`, { headers: bearer(alice.token!) })).status, 200);
    const refused = await fetch(`${tokenServer.url}/berth/v1/notifications`, { headers: bearer(bob.token!) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /scope="registry:metrics:\*",error="insufficient_scope"/);
  });
});

describe('metrics: scheduled garbage collection', () => {
  test('each run is counted with its duration and the bytes it freed', async () => {
    const server = await startBerth({ config: 'gc:\n  interval: 1s\n  grace: 0s\n' });
    try {
      const api = new Raw(server.url);
      const layer = randomBlob(4000);
      const [config, , manifest] = await pushImage(api, 'team/gone', layer);
      assert.equal((await api.fetch(`/v2/team/gone/manifests/${manifest!.digest}`, { method: 'DELETE' })).status, 202);
      let text = '';
      await until(async () => {
        text = await (await fetch(`${server.url}/metrics`)).text();
        return sample(text, 'berth_gc_freed_bytes_total')! > 0;
      }, 'a scheduled GC that frees the deleted image', 60_000);
      assert.ok(sample(text, 'berth_gc_runs_total{result="ok"}')! >= 1);
      assert.equal(sample(text, 'berth_gc_runs_total{result="failed"}'), undefined, 'no failed run');
      assert.ok(sample(text, 'berth_gc_duration_seconds_count')! >= 1);
      assert.equal(sample(text, 'berth_gc_freed_bytes_total'), layer.bytes.length + config!.bytes.length + manifest!.bytes.length);
    } finally {
      await server.stop();
    }
  });
});
