import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { blob, imageIndex, sha256 } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { missingTools, must } from '../helpers/tools.js';

const skip = missingTools('containerd', 'ctr', 'tar') ?? (process.getuid?.() === 0 ? undefined : 'containerd needs root here');

describe('containerd (ctr) against berth serve', { skip }, () => {
  let server: BerthServer;
  let containerd: Containerd;
  let raw: Raw;
  const layouts = tempDir('berth-ctd-src-');

  /** Pushes an image from an OCI layout through the plain API, blobs first. */
  async function pushLayout(dir: string, img: BuiltImage, repo: string, ref: string): Promise<void> {
    const blobs = [img.configDigest, ...img.layers.map((l) => l.digest)].map((d) => blob(readFileSync(join(dir, 'blobs', 'sha256', d.slice(7)))));
    await raw.pushImage(repo, ref, blobs, blob(img.manifest));
  }
  const requestsFor = (repo: string, from = 0): Record<string, unknown>[] => server.logs.slice(from).filter((l) => String(l.path).startsWith(`/v2/${repo}/`) || l.path === '/v2/');

  before(async () => {
    server = await startBerth();
    raw = new Raw(server.url);
    containerd = await startContainerd();
  });
  after(async () => {
    await containerd?.stop();
    await server?.stop();
  });

  test('ctr images pull --plain-http: starts with HEAD on the manifest, gets every blob intact', async () => {
    const dir = join(layouts, 'pull');
    const img = await writeLayoutImage(dir, 'v1', [{ 'etc/hostname': 'berth\n' }, { 'srv/data': Buffer.alloc(100_000, 5) }]);
    await pushLayout(dir, img, 'team/app', 'v1');
    await containerd.ctr('images', 'pull', '--plain-http', `${server.host}/team/app:v1`);
    // The push above only POSTed and PUT; what ctr sent is every GET and HEAD.
    const requests = requestsFor('team/app').filter((r) => r.method === 'GET' || r.method === 'HEAD');
    assert.deepEqual([requests[0]!.method, requests[0]!.path, requests[0]!.status], ['HEAD', '/v2/team/app/manifests/v1', 200], 'no GET /v2/ first');
    assert.match(await containerd.ctr('images', 'ls'), new RegExp(`${server.host}/team/app:v1\\s+\\S+\\s+${img.manifestDigest}`));
    for (const d of [img.configDigest, ...img.layers.map((l) => l.digest)]) {
      assert.equal(sha256(await containerd.content(d)), d, `containerd holds ${d} intact`);
    }
  });

  test('ctr images push --plain-http: POST then one monolithic PUT per blob; the manifest lands unchanged', async () => {
    const dir = join(layouts, 'push');
    const img = await writeLayoutImage(dir, 'v1', [{ 'usr/share/doc': Buffer.alloc(70_000, 8) }]);
    const archive = join(layouts, 'push.tar');
    await must('tar', ['-C', dir, '-cf', archive, '.']);
    await containerd.ctr('images', 'import', '--base-name', `${server.host}/ctr/app`, archive);
    const from = server.logs.length;
    await containerd.ctr('images', 'push', '--plain-http', `${server.host}/ctr/app:v1`);
    const requests = requestsFor('ctr/app', from);
    assert.equal(requests.filter((r) => r.method === 'PATCH').length, 0, 'ctr sends no PATCH');
    const puts = requests.filter((r) => r.method === 'PUT' && String(r.path).startsWith('/v2/ctr/app/blobs/uploads/'));
    assert.deepEqual(
      puts.map((p) => [p.status, p.bytesIn]).sort(),
      [[201, img.layers[0]!.size], [201, readFileSync(join(dir, 'blobs', 'sha256', img.configDigest.slice(7))).length]].sort(),
      'one PUT carrying each whole blob',
    );
    const manifest = await raw.fetch('/v2/ctr/app/manifests/v1', { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(manifest.status, 200);
    assert.deepEqual(Buffer.from(await manifest.arrayBuffer()), img.manifest, 'byte for byte');
    for (const d of [img.configDigest, img.layers[0]!.digest]) {
      const b = await raw.fetch(`/v2/ctr/app/blobs/${d}`);
      assert.equal(sha256(Buffer.from(await b.arrayBuffer())), d);
    }
  });

  test('ctr images pull --all-platforms fetches every child of an index', async () => {
    const dir = join(layouts, 'multi');
    const children = [];
    for (const arch of ['amd64', 'arm64']) {
      const img = await writeLayoutImage(dir, arch, [{ 'etc/arch': `${arch}\n` }], { arch });
      await pushLayout(dir, img, 'multi/app', sha256(img.manifest));
      children.push({ manifest: blob(img.manifest), platform: { architecture: arch, os: 'linux' } });
    }
    const index = imageIndex(children);
    const put = await raw.pushManifest('multi/app', 'v1', index, 'application/vnd.oci.image.index.v1+json');
    assert.equal(put.status, 201);
    await containerd.ctr('images', 'pull', '--plain-http', '--all-platforms', `${server.host}/multi/app:v1`);
    const listing = await containerd.ctr('images', 'ls');
    assert.match(listing, new RegExp(`${server.host}/multi/app:v1\\s+application/vnd.oci.image.index.v1\\+json\\s+${index.digest}.*linux/amd64,linux/arm64`));
    for (const c of children) assert.deepEqual(await containerd.content(c.manifest.digest), c.manifest.bytes);
  });
});
