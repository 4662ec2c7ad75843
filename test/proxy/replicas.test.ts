import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { s3pgEnv } from '../helpers/backends.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { freePort } from '../helpers/distribution-auth.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { randomBlob } from '../helpers/oci.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { rawPull } from '../helpers/pull.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const skip = missingTools('skopeo', 'pg_ctlcluster');

describe('pull-through cache on two replicas sharing S3 + PostgreSQL', { skip }, () => {
  let postgres: Postgres;
  let s3: S3Server;
  let upstream: BerthServer;
  let fault: FaultProxy;
  const replicas: BerthServer[] = [];
  let image: BuiltImage;

  before(async () => {
    [postgres, s3] = await Promise.all([startPostgres(), startS3()]);
    const env = s3pgEnv(s3, await postgres.createDatabase());
    upstream = await startBerth();
    fault = await FaultProxy.start(upstream.url);
    // Each replica's `self.test` upstream is the other replica: the same registry, as a load balancer in front of both would make it.
    const ports = await Promise.all([freePort(), freePort()]);
    const config = (other: number) => `proxy:\n  upstreams:\n    - { namespace: docker.io, url: "${fault.url}" }\n    - { namespace: self.test, url: "http://127.0.0.1:${other}" }\n`;
    replicas.push(...(await Promise.all(ports.map((port, i) => startBerth({ env, config: config(ports[1 - i]!), args: ['--addr', `127.0.0.1:${port}`] })))));
    const src = tempDir('berth-proxy-src-');
    image = await writeLayoutImage(src, 'v1', [{ a: randomBlob(500_000, 0.11).bytes }, { b: randomBlob(300_000, 0.12).bytes }]);
    await new Tools().skopeo('copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${upstream.host}/library/shared:v1`);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await fault?.stop();
    await upstream?.stop();
    await Promise.all([postgres?.stop(), s3?.stop()]);
  });

  test('ten pulls on each replica at once: one upstream fetch of the manifest and of each blob in all', async () => {
    // Every upstream answer takes a moment, so the other replica's requests arrive while the first fetch is under way.
    fault.inject(/^GET \/v2\/library\/shared\//, { kind: 'delay', ms: 400 });
    const pulls = await Promise.all(replicas.flatMap((r) => Array.from({ length: 10 }, () => rawPull(r.url, 'docker.io/library/shared', 'v1'))));
    for (const p of pulls) assert.equal(p.digest, image.manifestDigest);
    assert.deepEqual(
      fault.requests().filter((r) => r.startsWith('GET')).sort(),
      ['GET /v2/library/shared/manifests/v1', ...[image.configDigest, ...image.layers.map((l) => l.digest)].map((d) => `GET /v2/library/shared/blobs/${d}`)].sort(),
    );
  });

  test('an upstream url that leads to another replica of the same registry is a proxy loop, refused with the clear error', async () => {
    const r = await fetch(`${replicas[0]!.url}/v2/self.test/library/shared/manifests/v1`);
    assert.equal(r.status, 502);
    const e = ((await r.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /^upstream self\.test \(http:\/\/127\.0\.0\.1:\d+\) leads back to this registry \(a proxy loop\): fix its url in proxy\.upstreams$/);
    await until(() => replicas[1]!.logs.some((l) => l.path === '/v2/library/shared/manifests/v1' && l.status === 508), 'the other replica recognising the registry it belongs to');
  });
});
