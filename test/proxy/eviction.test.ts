import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { randomBlob } from '../helpers/oci.js';
import { rawPull } from '../helpers/pull.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const skip = missingTools('skopeo');

describe('pull-through cache over proxy.maxSize', { skip }, () => {
  let upstream: BerthServer;
  let fault: FaultProxy;
  let cache: BerthServer;
  const images: Record<string, BuiltImage> = {};

  before(async () => {
    upstream = await startBerth();
    fault = await FaultProxy.start(upstream.url);
    // Room for one of the two images; GC's grace (which eviction honours) a second, so the test need not wait an hour.
    cache = await startBerth({
      config: `gc: { interval: 0, grace: 1s }\nproxy:\n  maxSize: 450KiB\n  evictInterval: 1s\n  upstreams:\n    - { namespace: docker.io, url: "${fault.url}" }\n`,
    });
    const src = tempDir('berth-proxy-src-');
    const tools = new Tools();
    for (const [name, seed] of [['old', 0.21], ['new', 0.22]] as const) {
      images[name] = await writeLayoutImage(src, name, [{ data: randomBlob(300_000, seed).bytes }]);
      await tools.skopeo('copy', '--dest-tls-verify=false', `oci:${src}:${name}`, `docker://${upstream.host}/library/${name}:v1`);
    }
  });
  after(async () => {
    await cache?.stop();
    await fault?.stop();
    await upstream?.stop();
  });

  test('the least recently pulled image is evicted and its blobs freed; the next pull fetches it again', async () => {
    await rawPull(cache.url, 'docker.io/library/old', 'v1');
    await sleep(1200); // out of the grace period: now it may go
    await rawPull(cache.url, 'docker.io/library/new', 'v1');
    await until(() => cache.logs.some((l) => l.msg === 'cache evicted the least recently pulled images'), 'an eviction');
    const evicted = cache.logs.find((l) => l.msg === 'cache evicted the least recently pulled images')!;
    assert.equal(evicted.imagesEvicted, 1);
    assert.ok(Number(evicted.freedBytes) >= 300_000, `freed ${String(evicted.freedBytes)} bytes`);
    assert.ok(Number(evicted.heldBytes) <= 450 * 1024);

    fault.reset();
    assert.equal((await rawPull(cache.url, 'docker.io/library/new', 'v1')).digest, images.new!.manifestDigest);
    assert.deepEqual(fault.requests(), [], 'the recently pulled image stayed');
    const again = await rawPull(cache.url, 'docker.io/library/old', 'v1');
    assert.equal(again.digest, images.old!.manifestDigest);
    assert.equal(fault.count(/^GET \/v2\/library\/old\/blobs\//), 2, 'its config and layer fetched again');
  });
});
