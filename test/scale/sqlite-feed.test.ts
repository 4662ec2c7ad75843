import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { imageConfig, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';

let a: BerthServer;
let b: BerthServer;

before(async () => {
  // Two processes on one data dir: what `berth serve` plus a `berth` maintenance command look like on SQLite.
  const dataDir = tempDir();
  a = await startBerth({ dataDir });
  b = await startBerth({ dataDir });
});
after(() => Promise.all([a.stop(), b.stop()]));

async function push(api: Raw, tag: string): Promise<Blob> {
  const config = imageConfig();
  const layer = randomBlob(1000);
  const manifest = imageManifest(config, [layer]);
  await api.pushImage('feed/app', tag, [config, layer], manifest);
  return manifest;
}

test('SQLite: a tag moved by another process is not served stale (PRAGMA data_version polling)', async () => {
  const first = await push(new Raw(a.url), 'latest');
  const reader = new Raw(b.url);
  for (let i = 0; i < 2; i++) assert.equal((await reader.fetch('/v2/feed/app/manifests/latest')).headers.get('docker-content-digest'), first.digest);
  const second = await push(new Raw(a.url), 'latest');
  const deadline = Date.now() + 10_000;
  let seen: string | null = null;
  while (seen !== second.digest && Date.now() < deadline) {
    seen = (await reader.fetch('/v2/feed/app/manifests/latest')).headers.get('docker-content-digest');
    if (seen !== second.digest) await sleep(100);
  }
  assert.equal(seen, second.digest, 'the other process still serves the old tag after 10 s');
});
