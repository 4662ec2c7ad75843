import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { sha256 } from '../helpers/oci.js';
import { buildahIndex, missingTools, readLayoutImage, Tools, umociImage, type LayoutImage } from '../helpers/tools.js';

const skip = missingTools('skopeo', 'umoci', 'buildah', 'unshare');

describe('skopeo against berth serve', { skip }, () => {
  let server: BerthServer;
  let tools: Tools;
  let src: string;
  let v1: LayoutImage;
  let v2: LayoutImage;
  let multi: LayoutImage;
  const tls = '--tls-verify=false';
  const copy = (from: string, to: string, ...flags: string[]) => tools.skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...flags, from, to);
  const ref = (path: string) => `docker://${server.host}/${path}`;
  const blobFile = (layout: string, digest: string) => join(layout, 'blobs', ...digest.split(':'));

  before(async () => {
    tools = new Tools();
    src = tempDir('berth-skopeo-src-');
    v1 = await umociImage(join(src, 'layout'), 'v1', { 'etc/os-release': 'ID=berth\n', 'bin/tool': Buffer.alloc(64_000, 3) }, { cmd: '/bin/tool', label: 'team=core' });
    v2 = await umociImage(join(src, 'layout'), 'v2', { 'app/main.js': 'console.log(1)\n' }, { base: 'v1' });
    multi = await buildahIndex(tools, join(src, 'multi'), 'latest');
    server = await startBerth();
    await copy(`oci:${join(src, 'layout')}:v1`, ref('team/app:v1'));
    await copy(`oci:${join(src, 'layout')}:v2`, ref('team/app:v2'));
  });
  after(() => server?.stop());

  test('copy in and out keeps every digest: manifest, config and layers', async () => {
    assert.equal(v2.layers.length, 2, 'v2 is two layers');
    assert.equal(v2.layers[0], v1.layers[0], 'sharing the base layer');
    for (const [tag, img] of [['v1', v1], ['v2', v2]] as const) {
      const out = join(tempDir('berth-skopeo-out-'), 'layout');
      await copy(ref(`team/app:${tag}`), `oci:${out}:${tag}`);
      const pulled = readLayoutImage(out, tag);
      assert.equal(pulled.digest, img.digest);
      assert.deepEqual(pulled.manifest, img.manifest);
      assert.equal(pulled.config, img.config);
      assert.deepEqual(pulled.layers, img.layers);
      for (const d of [pulled.config!, ...pulled.layers]) assert.equal(sha256(readFileSync(blobFile(out, d))), d, `${d} pulled intact`);
    }
  });

  test('inspect --raw returns the pushed bytes; inspect --config the pushed config', async () => {
    const raw = await tools.skopeo('inspect', tls, '--raw', ref('team/app:v2'));
    assert.equal(raw, v2.manifest.toString(), 'byte for byte');
    const config = JSON.parse(await tools.skopeo('inspect', tls, '--config', ref('team/app:v2'))) as { config: { Cmd: string[]; Labels: Record<string, string> } };
    assert.deepEqual(config, JSON.parse(readFileSync(blobFile(join(src, 'layout'), v2.config!), 'utf8')));
    assert.deepEqual(config.config.Cmd, ['/bin/tool']);
    assert.equal(config.config.Labels.team, 'core');
    const info = JSON.parse(await tools.skopeo('inspect', tls, ref('team/app:v1'))) as { Digest: string; Layers: string[]; Architecture: string };
    assert.equal(info.Digest, v1.digest);
    assert.deepEqual(info.Layers, v1.layers);
  });

  test('list-tags lists what was pushed', async () => {
    const tags = JSON.parse(await tools.skopeo('list-tags', tls, ref('team/app'))) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1', 'v2']);
  });

  test('copy between two repositories mounts the layers and keeps the digest', async () => {
    // What a user does: pull from one repository, then copy it to another. The
    // pull taught skopeo's (private) blob-info cache where the layers live.
    await copy(ref('team/app:v2'), `oci:${join(tempDir('berth-skopeo-out-'), 'l')}:v2`);
    const before = server.logs.length;
    await copy(ref('team/app:v2'), ref('mirror/app:v2'));
    const mounts = server.logs.slice(before).filter((l) => l.method === 'POST' && l.path === '/v2/mirror/app/blobs/uploads/' && l.status === 201);
    assert.equal(mounts.length, v2.layers.length, 'every layer was mounted (201 on POST), none re-uploaded');
    const info = JSON.parse(await tools.skopeo('inspect', tls, ref('mirror/app:v2'))) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, v2.digest);
    assert.deepEqual(info.Layers, v2.layers);
    const out = join(tempDir('berth-skopeo-out-'), 'l');
    await copy(ref('mirror/app:v2'), `oci:${out}:v2`);
    assert.equal(readLayoutImage(out, 'v2').digest, v2.digest, 'the mounted blobs are pullable from the new repository');
  });

  test('delete removes the manifest: it is then 404, and the other tag stays pullable', async () => {
    await copy(`oci:${join(src, 'layout')}:v2`, ref('gone/app:v2'));
    await copy(`oci:${join(src, 'layout')}:v1`, ref('gone/app:v1'));
    await tools.skopeo('delete', tls, ref('gone/app:v2'));
    for (const r of ['v2', v2.digest]) {
      const res = await fetch(`${server.url}/v2/gone/app/manifests/${r}`, { headers: { Accept: v2.mediaType } });
      assert.equal(res.status, 404, `manifest ${r} is gone`);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_UNKNOWN');
    }
    const inspect = await tools.run('skopeo', ['inspect', tls, ref('gone/app:v2')]);
    assert.notEqual(inspect.code, 0);
    assert.match(inspect.stderr, /manifest unknown/);
    const tags = JSON.parse(await tools.skopeo('list-tags', tls, ref('gone/app'))) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
    const out = join(tempDir('berth-skopeo-out-'), 'l');
    await copy(ref('gone/app:v1'), `oci:${out}:v1`);
    assert.equal(readLayoutImage(out, 'v1').digest, v1.digest, 'the shared base layer survived the delete');
  });

  test('copy --all pushes a multi-arch index; every child is pullable; --override-arch picks arm64', async () => {
    assert.equal(multi.children.length, 2);
    await copy(`oci:${join(src, 'multi')}:latest`, ref('multi/app:v1'), '--all');
    const raw = await tools.skopeo('inspect', tls, '--raw', ref('multi/app:v1'));
    assert.equal(raw, multi.manifest.toString(), 'the index byte for byte');
    for (const child of multi.children) {
      const out = join(tempDir('berth-skopeo-out-'), 'l');
      await copy(ref(`multi/app@${child}`), `oci:${out}:c`);
      assert.equal(readLayoutImage(out, 'c').digest, child);
    }
    const index = JSON.parse(raw) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const arm = index.manifests.find((m) => m.platform.architecture === 'arm64')!;
    const info = JSON.parse(await tools.skopeo('inspect', tls, '--override-arch', 'arm64', ref('multi/app:v1'))) as { Architecture: string };
    assert.equal(info.Architecture, 'arm64');
    const out = join(tempDir('berth-skopeo-out-'), 'l');
    await copy(ref('multi/app:v1'), `oci:${out}:arm`, '--override-arch', 'arm64');
    assert.equal(readLayoutImage(out, 'arm').digest, arm.digest, 'skopeo chose the arm64 child');
  });

  test('docker-archive round trip: out to a tarball and back in, layers and config unchanged', async () => {
    const archive = join(tempDir('berth-skopeo-archive-'), 'app.tar');
    await copy(ref('team/app:v2'), `docker-archive:${archive}:team/app:v2`);
    await copy(`docker-archive:${archive}`, ref('archived/app:v2'));
    const raw = JSON.parse(await tools.skopeo('inspect', tls, '--raw', ref('archived/app:v2'))) as { mediaType: string; config: { digest: string }; layers: { digest: string }[] };
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json', 'a docker archive becomes a Docker schema2 image');
    assert.equal(raw.config.digest, v2.config);
    assert.deepEqual(raw.layers.map((l) => l.digest), v2.layers);
    const out = join(tempDir('berth-skopeo-out-'), 'l');
    await copy(ref('archived/app:v2'), `dir:${out}`);
    for (const d of [raw.config.digest, ...v2.layers]) assert.equal(sha256(readFileSync(join(out, d.slice(7)))), d);
  });
});
