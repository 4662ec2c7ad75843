import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { buildahIndex, missingTools, Tools, umociImage, type LayoutImage } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'umoci', 'buildah', 'unshare');

/**
 * The reference check: one skopeo workflow run against Berth and against CNCF
 * Distribution side by side must leave the same digests, bytes and listings.
 */
describe('berth serve and CNCF Distribution give the same answers', { skip }, () => {
  let berth: BerthServer;
  let distribution: Distribution;
  let tools: Tools;
  let src: string;
  let v2: LayoutImage;
  let multi: LayoutImage;
  const both = () => [
    { name: 'berth', host: berth.host, url: berth.url },
    { name: 'distribution', host: distribution.host, url: distribution.url },
  ];
  const ACCEPT = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
  ].join(', ');

  /** Runs the same request on both registries and returns both responses. */
  async function onBoth(path: string, init: RequestInit = {}): Promise<[Response, Response]> {
    const [a, b] = both();
    return Promise.all([fetch(a!.url + path, init), fetch(b!.url + path, init)]) as Promise<[Response, Response]>;
  }

  /** Follows `Link: <...>; rel="next"` from `path` and returns every page's list. */
  async function pages(url: string, path: string, key: 'repositories' | 'tags'): Promise<string[][]> {
    const out: string[][] = [];
    for (let next: string | undefined = path; next; ) {
      const r: Response = await fetch(url + next);
      assert.equal(r.status, 200, `${url}${next}`);
      out.push(((await r.json()) as Record<string, string[] | null>)[key] ?? []);
      const link: string | undefined = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
      next = link;
      assert.ok(out.length < 50, 'pagination ends');
    }
    return out;
  }

  before(async () => {
    tools = new Tools();
    src = tempDir('berth-compare-src-');
    const layout = join(src, 'layout');
    await umociImage(layout, 'v1', { 'etc/os-release': 'ID=compare\n', 'bin/sh': Buffer.alloc(30_000, 1) });
    v2 = await umociImage(layout, 'v2', { 'app/index.js': 'module.exports = 2\n' }, { base: 'v1' });
    multi = await buildahIndex(tools, join(src, 'multi'), 'latest');
    [berth, distribution] = await Promise.all([startBerth(), startDistribution()]);
    for (const r of both()) {
      const copy = (from: string, to: string, ...flags: string[]) =>
        tools.skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...flags, from, `docker://${r.host}/${to}`);
      await copy(`oci:${layout}:v1`, 'team/app:v1');
      await copy(`oci:${layout}:v2`, 'team/app:v2');
      await copy(`oci:${layout}:v2`, 'team/app:latest');
      await copy(`oci:${layout}:v1`, 'team/app:docker', '--format', 'v2s2');
      await copy(`oci:${join(src, 'multi')}:latest`, 'multi/app:v1', '--all');
      await copy(`docker://${r.host}/team/app:v2`, 'mirror/app:v2');
      for (const repo of ['a/one', 'b/two', 'c/three']) await copy(`oci:${layout}:v1`, `${repo}:v1`);
    }
  });
  after(async () => {
    await berth?.stop();
    await distribution?.stop();
  });

  test('every manifest: same bytes, digest, media type and length', async () => {
    const refs = ['team/app:v1', 'team/app:v2', 'team/app:latest', 'team/app:docker', 'multi/app:v1', ...multi.children.map((c) => `multi/app@${c}`), 'mirror/app:v2'];
    for (const ref of refs) {
      const [repo, reference] = ref.includes('@') ? ref.split('@') : [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
      const path = `/v2/${repo}/manifests/${reference}`;
      const [a, b] = await onBoth(path, { headers: { Accept: ACCEPT } });
      assert.deepEqual([a.status, b.status], [200, 200], ref);
      for (const h of ['docker-content-digest', 'content-type', 'content-length']) assert.equal(a.headers.get(h), b.headers.get(h), `${ref}: ${h}`);
      assert.deepEqual(Buffer.from(await a.arrayBuffer()), Buffer.from(await b.arrayBuffer()), `${ref}: bytes`);
    }
    const [a] = await onBoth('/v2/team/app/manifests/v2', { method: 'HEAD', headers: { Accept: ACCEPT } });
    assert.equal(a.headers.get('docker-content-digest'), v2.digest, 'and that digest is the one in the source layout');
    const [m] = await onBoth('/v2/multi/app/manifests/v1', { method: 'HEAD', headers: { Accept: ACCEPT } });
    assert.equal(m.headers.get('docker-content-digest'), multi.digest);
  });

  test('every blob: same digest header and length', async () => {
    for (const d of [v2.config!, ...v2.layers]) {
      const [a, b] = await onBoth(`/v2/mirror/app/blobs/${d}`, { method: 'HEAD' });
      assert.deepEqual([a.status, b.status], [200, 200]);
      for (const h of ['docker-content-digest', 'content-length']) assert.equal(a.headers.get(h), b.headers.get(h), `${d}: ${h}`);
    }
  });

  test('tag lists agree (Berth sorted and paginated, as the spec asks; Distribution 2.8 does neither)', async () => {
    for (const repo of ['team/app', 'multi/app', 'mirror/app']) {
      const [b, d] = await Promise.all(both().map(async (r) => (JSON.parse(await tools.skopeo('list-tags', '--tls-verify=false', `docker://${r.host}/${repo}`)) as { Tags: string[] }).Tags));
      assert.deepEqual(b, [...d!].sort(), repo);
    }
    const berthPages = await pages(berth.url, '/v2/team/app/tags/list?n=2', 'tags');
    assert.deepEqual(berthPages, [['docker', 'latest'], ['v1', 'v2']]);
  });

  test('the catalog agrees, whole and page by page', async () => {
    const [a, b] = await onBoth('/v2/_catalog');
    assert.deepEqual(await a.json(), await b.json());
    const [berthPages, distPages] = await Promise.all(both().map((r) => pages(r.url, '/v2/_catalog?n=2', 'repositories')));
    assert.deepEqual(berthPages, distPages);
    assert.deepEqual(berthPages!.flat(), ['a/one', 'b/two', 'c/three', 'mirror/app', 'multi/app', 'team/app']);
  });

  test('a missing manifest, blob and repository fail the same way', async () => {
    for (const path of ['/v2/team/app/manifests/nope', `/v2/team/app/blobs/sha256:${'0'.repeat(64)}`, '/v2/no/such/tags/list']) {
      const [a, b] = await onBoth(path);
      assert.equal(a.status, b.status, path);
      const codes = await Promise.all([a, b].map(async (r) => ((await r.json()) as { errors: { code: string }[] }).errors.map((e) => e.code)));
      assert.deepEqual(codes[0], codes[1], path);
    }
  });
});
