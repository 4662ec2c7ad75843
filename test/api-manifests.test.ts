import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from './helpers/berth.js';
import { blob, descriptor, imageConfig, imageIndex, imageManifest, randomBlob, sha256, sha512 } from './helpers/oci.js';
import { errorCode, Raw } from './helpers/registry-client.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

let server: BerthServer;
let api: Raw;

before(async () => {
  server = await startBerth({ env: { BERTH_LIMITS_MAX_MANIFEST_SIZE: '65536' } });
  api = new Raw(server.url);
});
after(() => server.stop());

async function pushed(repo: string, tag: string, seed = Math.random()) {
  const config = imageConfig();
  const layer = randomBlob(2048, seed);
  const manifest = imageManifest(config, [layer]);
  await api.pushImage(repo, tag, [config, layer], manifest);
  return { config, layer, manifest };
}

describe('manifests', () => {
  test('PUT by tag, then GET and HEAD serve the exact bytes with type and digest', async () => {
    const { manifest } = await pushed('m/basic', 'v1');
    for (const ref of ['v1', manifest.digest]) {
      const r = await api.fetch(`/v2/m/basic/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(r.headers.get('docker-content-digest'), manifest.digest);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), manifest.bytes);
      const head = await api.fetch(`/v2/m/basic/manifests/${ref}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(manifest.bytes.length));
    }
  });

  test('bytes are stored as pushed: whitespace, key order, unknown fields and data survive', async () => {
    const config = imageConfig();
    const layer = blob('layer with data');
    await api.pushBlob('m/exact', config);
    await api.pushBlob('m/exact', layer);
    const text = `{\n  "schemaVersion": 2,\n  "x-extra": {"kept": true},\n  "mediaType": "${OCI_MANIFEST}",\n  "config": ${JSON.stringify(descriptor(config, 'application/vnd.oci.image.config.v1+json'))},\n  "layers": [${JSON.stringify(descriptor(layer, 'application/vnd.oci.image.layer.v1.tar', { data: layer.bytes.toString('base64'), 'x-field': 1 }))}]\n}\n`;
    const m = blob(text);
    const r = await api.pushManifest('m/exact', 'v1', m);
    assert.equal(r.status, 201);
    const got = await api.fetch(`/v2/m/exact/manifests/${m.digest}`);
    assert.equal(await got.text(), text);
  });

  test('Docker schema2 manifests and manifest lists keep their media types', async () => {
    const config = imageConfig();
    const layer = randomBlob(512);
    const m = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: descriptor(config, 'application/vnd.docker.container.image.v1+json'),
        layers: [descriptor(layer, 'application/vnd.docker.image.rootfs.diff.tar.gzip')],
      }),
    );
    await api.pushImage('m/docker', 'v2', [config, layer], m, DOCKER_MANIFEST);
    const list = blob(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [descriptor(m, DOCKER_MANIFEST, { platform: { architecture: 'amd64', os: 'linux' } })] }));
    assert.equal((await api.pushManifest('m/docker', 'list', list, DOCKER_LIST)).status, 201);
    const r = await api.fetch('/v2/m/docker/manifests/list', { headers: { Accept: `${DOCKER_LIST}, ${DOCKER_MANIFEST}` } });
    assert.equal(r.headers.get('content-type'), DOCKER_LIST);
    // A client that accepts only image manifests gets the linux/amd64 child, as from Distribution.
    const old = await api.fetch('/v2/m/docker/manifests/list', { headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(old.headers.get('docker-content-digest'), m.digest);
  });

  test('an index needs its children in the repository; with them it is accepted', async () => {
    const amd = await pushed('m/index', 'amd64');
    const arm = imageManifest(imageConfig('arm64'), [randomBlob(256)]);
    const index = imageIndex([
      { manifest: amd.manifest, platform: { architecture: 'amd64', os: 'linux' } },
      { manifest: arm, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    let r = await api.pushManifest('m/index', 'multi', index, OCI_INDEX);
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await api.fetch('/v2/m/index/manifests/multi')).status, 404);
    const armBlobs = JSON.parse(arm.bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    void armBlobs;
    const armConfig = imageConfig('arm64');
    const armLayer = randomBlob(256);
    const arm2 = imageManifest(armConfig, [armLayer]);
    await api.pushImage('m/index', arm2.digest, [armConfig, armLayer], arm2);
    const index2 = imageIndex([
      { manifest: amd.manifest, platform: { architecture: 'amd64', os: 'linux' } },
      { manifest: arm2, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    r = await api.pushManifest('m/index', 'multi', index2, OCI_INDEX);
    assert.equal(r.status, 201);
  });

  test('a manifest naming a missing blob is MANIFEST_BLOB_UNKNOWN and nothing is tagged', async () => {
    const config = imageConfig();
    await api.pushBlob('m/missing', config);
    const m = imageManifest(config, [blob('never uploaded')]);
    const r = await api.pushManifest('m/missing', 'v1', m);
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'MANIFEST_BLOB_UNKNOWN');
    const tags = await api.fetch('/v2/m/missing/tags/list');
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, []);
    assert.equal((await api.fetch(`/v2/m/missing/manifests/${m.digest}`)).status, 404);
  });

  test('blobs of another repository do not satisfy a manifest', async () => {
    const { manifest } = await pushed('m/owner', 'v1');
    const r = await api.pushManifest('m/thief', 'v1', manifest);
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'MANIFEST_BLOB_UNKNOWN');
  });

  test('invalid manifests are MANIFEST_INVALID', async () => {
    const config = imageConfig();
    await api.pushBlob('m/invalid', config);
    const cases: [string, string][] = [
      ['{not json', OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 1, name: 'x' }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: 'sha256:zz', size: 1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(config, 'x', { size: -1 }), layers: [] }), OCI_MANIFEST],
    ];
    for (const [body, type] of cases) {
      const r = await api.fetch('/v2/m/invalid/manifests/v1', { method: 'PUT', body, headers: { 'Content-Type': type } });
      assert.equal(r.status, 400, body);
      assert.equal(await errorCode(r), 'MANIFEST_INVALID', body);
    }
    assert.equal((await api.fetch('/v2/m/invalid/manifests/v1')).status, 404);
  });

  test('a manifest sent as text/plain is refused like Distribution does; as application/json its own mediaType decides', async () => {
    const { config, layer } = await pushed('m/types', 'base');
    const m = imageManifest(config, [layer]);
    const plain = await api.fetch('/v2/m/types/manifests/plain', { method: 'PUT', body: m.bytes, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(plain.status, 400);
    assert.equal(await errorCode(plain), 'MANIFEST_INVALID');
    assert.equal((await api.fetch('/v2/m/types/manifests/plain')).status, 404, 'nothing was tagged');
    const json = await api.fetch('/v2/m/types/manifests/json', { method: 'PUT', body: m.bytes, headers: { 'Content-Type': 'application/json' } });
    assert.equal(json.status, 201);
    assert.equal((await api.fetch('/v2/m/types/manifests/json')).headers.get('content-type'), OCI_MANIFEST);
  });

  test('a manifest over the size limit is 413 with an OCI error body', async () => {
    const big = Buffer.alloc(70_000, 0x20);
    const r = await api.fetch('/v2/m/big/manifests/v1', { method: 'PUT', body: big, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 413);
    assert.equal(await errorCode(r), 'SIZE_INVALID');
  });

  test('PUT by digest verifies the digest (sha256 and sha512) and works without a tag', async () => {
    const { config, layer } = await pushed('m/bydigest', 'seed');
    const m = imageManifest(config, [layer], { annotations: { n: '1' } });
    const wrong = await api.pushManifest('m/bydigest', sha256('other'), m);
    assert.equal(wrong.status, 400);
    assert.equal(await errorCode(wrong), 'DIGEST_INVALID');
    const ok = await api.pushManifest('m/bydigest', m.digest, m);
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get('location'), `/v2/m/bydigest/manifests/${m.digest}`);
    const d512 = sha512(m.bytes);
    const r512 = await api.pushManifest('m/bydigest', d512, m);
    assert.equal(r512.status, 201);
    assert.equal(r512.headers.get('docker-content-digest'), d512);
    assert.equal((await api.fetch(`/v2/m/bydigest/manifests/${d512}`)).status, 200);
  });

  test('PUT by digest with ?tag= tags it and answers OCI-Tag', async () => {
    const { config, layer } = await pushed('m/qtag', 'seed');
    const m = imageManifest(config, [layer], { annotations: { q: 'tag' } });
    const r = await api.fetch(`/v2/m/qtag/manifests/${m.digest}?tag=a&tag=b`, { method: 'PUT', body: m.bytes, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.headers.get('oci-tag')?.split(/,\s*/).sort(), ['a', 'b']);
    for (const t of ['a', 'b']) assert.equal((await api.fetch(`/v2/m/qtag/manifests/${t}`)).headers.get('docker-content-digest'), m.digest);
  });

  test('DELETE by tag removes only the tag; by digest removes the manifest and its tags', async () => {
    const { manifest } = await pushed('m/delete', 'one');
    await api.pushManifest('m/delete', 'two', manifest);
    let r = await api.fetch('/v2/m/delete/manifests/one', { method: 'DELETE' });
    assert.equal(r.status, 202);
    assert.equal((await api.fetch('/v2/m/delete/manifests/one')).status, 404);
    assert.equal((await api.fetch('/v2/m/delete/manifests/two')).status, 200);
    r = await api.fetch(`/v2/m/delete/manifests/${manifest.digest}`, { method: 'DELETE' });
    assert.equal(r.status, 202);
    assert.equal((await api.fetch('/v2/m/delete/manifests/two')).status, 404);
    assert.equal((await api.fetch(`/v2/m/delete/manifests/${manifest.digest}`)).status, 404);
    r = await api.fetch(`/v2/m/delete/manifests/${manifest.digest}`, { method: 'DELETE' });
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'MANIFEST_UNKNOWN');
  });

  test('unknown repositories and manifests get NAME_UNKNOWN and MANIFEST_UNKNOWN', async () => {
    let r = await api.fetch('/v2/m/nowhere/manifests/latest');
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'NAME_UNKNOWN');
    await pushed('m/known', 'v1');
    r = await api.fetch('/v2/m/known/manifests/nope');
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'MANIFEST_UNKNOWN');
  });

  test('artifacts with an empty config and no layers are accepted; non-distributable layers need no blob', async () => {
    const empty = blob('{}');
    await api.pushBlob('m/artifact', empty);
    const artifact = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.sbom',
        config: descriptor(empty, 'application/vnd.oci.empty.v1+json'),
        layers: [],
      }),
    );
    assert.equal((await api.pushManifest('m/artifact', 'sbom', artifact)).status, 201);
    const config = imageConfig('amd64', 'windows');
    await api.pushBlob('m/artifact', config);
    const foreign = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: descriptor(config, 'application/vnd.oci.image.config.v1+json'),
        layers: [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: sha256('elsewhere'), size: 9, urls: ['https://example.invalid/layer'] }],
      }),
    );
    assert.equal((await api.pushManifest('m/artifact', 'foreign', foreign)).status, 201);
  });
});

describe('listing', () => {
  test('tags list is lexical, paginates with n/last and a Link header; n=0 is empty', async () => {
    const { manifest } = await pushed('l/tags', 'b');
    for (const t of ['a', 'c', 'B', '1.0']) await api.pushManifest('l/tags', t, manifest);
    let r = await api.fetch('/v2/l/tags/tags/list');
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ['1.0', 'B', 'a', 'b', 'c']);
    r = await api.fetch('/v2/l/tags/tags/list?n=2');
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ['1.0', 'B']);
    assert.equal(r.headers.get('link'), '</v2/l/tags/tags/list?n=2&last=B>; rel="next"');
    r = await api.fetch('/v2/l/tags/tags/list?n=2&last=B');
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ['a', 'b']);
    r = await api.fetch('/v2/l/tags/tags/list?n=0');
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, []);
    r = await api.fetch('/v2/l/tags/tags/list?n=999999999999');
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { tags: string[] }).tags.length, 5);
    r = await api.fetch('/v2/l/nothing/tags/list');
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'NAME_UNKNOWN');
  });

  test('tags list and tag reads follow every push and delete at once (served from memory, never stale)', async () => {
    const { manifest } = await pushed('l/fresh', 'one');
    const other = (await pushed('l/fresh', 'two')).manifest;
    const tags = async (query = '') => ((await (await api.fetch(`/v2/l/fresh/tags/list${query}`)).json()) as { tags: string[] }).tags;
    const digestOf = async (tag: string) => (await api.fetch(`/v2/l/fresh/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest');
    assert.deepEqual(await tags(), ['one', 'two']);
    assert.deepEqual(await tags('?n=1'), ['one']);
    assert.equal(await digestOf('one'), manifest.digest);

    assert.equal((await api.pushManifest('l/fresh', 'three', manifest)).status, 201);
    assert.deepEqual(await tags(), ['one', 'three', 'two']);
    assert.equal((await api.pushManifest('l/fresh', 'one', other)).status, 201);
    assert.equal(await digestOf('one'), other.digest, 'a moved tag is served at its new digest');

    assert.equal((await api.fetch('/v2/l/fresh/manifests/three', { method: 'DELETE' })).status, 202);
    assert.deepEqual(await tags(), ['one', 'two']);
    assert.equal((await api.fetch(`/v2/l/fresh/manifests/${other.digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual(await tags(), [], 'deleting by digest drops every tag that pointed at it');
    assert.deepEqual(await tags('?n=1'), []);
  });

  test('catalog lists repositories with manifests, paginated', async () => {
    for (const name of ['cat/zz', 'cat/aa', 'cat/mm']) await pushed(name, 'v1');
    const r = await api.fetch('/v2/_catalog?n=1000');
    const repos = ((await r.json()) as { repositories: string[] }).repositories;
    assert.deepEqual(repos, [...repos].sort());
    for (const name of ['cat/aa', 'cat/mm', 'cat/zz']) assert.ok(repos.includes(name));
    const first = await api.fetch('/v2/_catalog?n=1&last=cat/aa');
    assert.deepEqual(((await first.json()) as { repositories: string[] }).repositories, ['cat/mm']);
    assert.match(first.headers.get('link') ?? '', /last=cat%2Fmm/);
  });
});

describe('referrers', () => {
  test('lists manifests whose subject is the digest, filtered by artifactType', async () => {
    const { manifest } = await pushed('r/app', 'v1');
    const empty = blob('{}');
    await api.pushBlob('r/app', empty);
    const mk = (type: string, n: string) =>
      blob(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: type,
          config: descriptor(empty, 'application/vnd.oci.empty.v1+json'),
          layers: [],
          subject: descriptor(manifest, OCI_MANIFEST),
          annotations: { n },
        }),
      );
    const sig = mk('application/vnd.example.signature', '1');
    const sbom = mk('application/vnd.example.sbom', '2');
    for (const a of [sig, sbom]) {
      const r = await api.pushManifest('r/app', a.digest, a);
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('oci-subject'), manifest.digest);
    }
    let r = await api.fetch(`/v2/r/app/referrers/${manifest.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), OCI_INDEX);
    const all = (await r.json()) as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
    assert.deepEqual(all.manifests.map((m) => m.digest).sort(), [sig.digest, sbom.digest].sort());
    assert.equal(all.manifests.find((m) => m.digest === sbom.digest)?.annotations.n, '2');
    r = await api.fetch(`/v2/r/app/referrers/${manifest.digest}?artifactType=application/vnd.example.sbom`);
    assert.equal(r.headers.get('oci-filters-applied'), 'artifactType');
    const filtered = (await r.json()) as { manifests: { digest: string }[] };
    assert.deepEqual(filtered.manifests.map((m) => m.digest), [sbom.digest]);
    r = await api.fetch(`/v2/r/app/referrers/${sha256('no such subject')}`);
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { manifests: unknown[] }).manifests, []);
    r = await api.fetch('/v2/r/app/referrers/sha256:bad');
    assert.equal(r.status, 400);
  });

  test('referrers come in pages (Link) of at most about the manifest size limit, the filter kept, each one once', async () => {
    const { manifest } = await pushed('r/many', 'v1');
    const empty = blob('{}');
    await api.pushBlob('r/many', empty);
    const pushedDigests: string[] = [];
    for (let i = 0; i < 7; i++) {
      const a = blob(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: i % 2 ? 'application/vnd.example.odd' : 'application/vnd.example.even',
          config: descriptor(empty, 'application/vnd.oci.empty.v1+json'),
          layers: [],
          subject: descriptor(manifest, OCI_MANIFEST),
          annotations: { i: String(i), filler: 'x'.repeat(25_000) },
        }),
      );
      assert.equal((await api.pushManifest('r/many', a.digest, a)).status, 201);
      pushedDigests.push(a.digest);
    }
    const walk = async (first: string) => {
      const seen: string[] = [];
      let pages = 0;
      for (let next: string | undefined = first; next; pages++) {
        const r = await api.fetch(next);
        assert.equal(r.status, 200);
        const text = await r.text();
        assert.ok(text.length <= 65536 + 30_000, `a page of ${text.length} bytes`);
        seen.push(...(JSON.parse(text) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest));
        next = /<([^>]+)>; rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
        if (next && first.includes('artifactType')) assert.match(next, /artifactType=application%2Fvnd\.example\.even/);
      }
      return { seen, pages };
    };
    const all = await walk(`/v2/r/many/referrers/${manifest.digest}`);
    assert.ok(all.pages >= 3, `${all.pages} pages`);
    assert.deepEqual([...all.seen].sort(), [...pushedDigests].sort());
    const even = await walk(`/v2/r/many/referrers/${manifest.digest}?artifactType=application/vnd.example.even`);
    assert.deepEqual([...even.seen].sort(), pushedDigests.filter((_, i) => i % 2 === 0).sort());
    assert.equal((await api.fetch(`/v2/r/many/referrers/${manifest.digest}?last=garbage`)).status, 400);
  });

  test('includes referrers recorded in a referrers-tag index by older clients', async () => {
    const { manifest } = await pushed('r/legacy', 'v1');
    const empty = blob('{}');
    await api.pushBlob('r/legacy', empty);
    const sig = blob(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.legacy.sig', config: descriptor(empty, 'application/vnd.oci.empty.v1+json'), layers: [] }));
    await api.pushManifest('r/legacy', sig.digest, sig);
    const tagIndex = blob(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(sig, OCI_MANIFEST, { artifactType: 'application/vnd.legacy.sig' })] }));
    assert.equal((await api.pushManifest('r/legacy', `sha256-${manifest.digest.slice(7)}`, tagIndex, OCI_INDEX)).status, 201);
    const r = await api.fetch(`/v2/r/legacy/referrers/${manifest.digest}`);
    const body = (await r.json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(body.manifests.map((m) => [m.digest, m.artifactType]), [[sig.digest, 'application/vnd.legacy.sig']]);
  });
});
