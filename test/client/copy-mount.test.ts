import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools } from '../helpers/tools.js';

let a: BerthServer;
let b: BerthServer;
let src: string;
let image: BuiltImage;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const blobs = () => [image.configDigest, ...image.layers.map((l) => l.digest)];
const uploadsTo = (logs: Record<string, unknown>[], repo: string) =>
  logs.filter((l) => l.msg === 'request' && (l.method === 'PATCH' || l.method === 'PUT') && String(l.path).startsWith(`/v2/${repo}/blobs/uploads/`));

before(async () => {
  [a, b] = await Promise.all([startBerth(), startBerth()]);
  src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'app', [{ 'etc/base': Buffer.alloc(50_000, 4) }, { 'app/x': Buffer.alloc(30_000, 5) }]);
  ok(await berth(['copy', `oci:${src}:app`, `${a.host}/src/app:v1`], env()));
  ok(await berth(['copy', `oci:${src}:app`, `${b.host}/other/app:v1`], env()));
});
after(() => Promise.all([a.stop(), b.stop()]));

describe('berth copy registry -> registry mounts what the destination has', () => {
  test('from another registry: a mount without `from` finds the blobs in another repository of the destination', async () => {
    const r = await berth(['copy', `${a.host}/src/app:v1`, `${b.host}/new/app:v1`], env());
    ok(r);
    for (const d of blobs()) assert.match(r.stdout, new RegExp(`^Copying blob ${d.slice(7, 19)} mounted$`, 'm'));
    assert.deepEqual(uploadsTo(b.logs, 'new/app'), [], 'not one byte uploaded');
    assert.match(r.stdout, new RegExp(`Digest: ${image.manifestDigest}`));
  });

  test('within one registry: mounted from the source repository', async () => {
    const r = await berth(['copy', `${a.host}/src/app:v1`, `${a.host}/moved/app:v1`], env());
    ok(r);
    for (const d of blobs()) assert.match(r.stdout, new RegExp(`^Copying blob ${d.slice(7, 19)} mounted$`, 'm'));
    assert.deepEqual(uploadsTo(a.logs, 'moved/app'), []);
  });
});

describe('berth copy to Distribution 2.8', { skip: missingTools('docker-registry') }, () => {
  let dist: Distribution;
  before(async () => {
    dist = await startDistribution();
  });
  after(() => dist.stop());

  test('Distribution answers a mount without `from` with an upload session, which the copy uses', async () => {
    const r = await berth(['copy', `${a.host}/src/app:v1`, `${dist.host}/team/app:v1`], env());
    ok(r);
    for (const d of blobs()) assert.match(r.stdout, new RegExp(`^Copying blob ${d.slice(7, 19)} done$`, 'm'));
    assert.equal((await fetch(`${dist.url}/v2/team/app/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
  });

  test('the local store knows which repositories of the destination hold the blobs: mounted from there', async () => {
    const e = env();
    ok(await berth(['pull', `${dist.host}/team/app:v1`], e));
    const r = await berth(['copy', `${a.host}/src/app:v1`, `${dist.host}/copied/app:v1`], e);
    ok(r);
    for (const d of blobs()) assert.match(r.stdout, new RegExp(`^Copying blob ${d.slice(7, 19)} mounted$`, 'm'));
  });
});
