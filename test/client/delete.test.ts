import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { Terminal } from '../helpers/terminal.js';
import { missingTools } from '../helpers/tools.js';

let server: BerthServer;
let src: string;
let image: BuiltImage;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: { code: number; stderr: string; stdout: string }) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

async function tagsOf(base: string, repo: string): Promise<string[]> {
  const r = await fetch(`${base}/v2/${repo}/tags/list`);
  return r.status === 404 ? [] : (((await r.json()) as { tags: string[] | null }).tags ?? []).sort();
}

async function pushTags(host: string, repo: string, tags: string[]): Promise<void> {
  for (const t of tags) ok(await berth(['copy', `oci:${src}:app`, `${host}/${repo}:${t}`], env()));
}

before(async () => {
  server = await startBerth();
  src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'app', [{ 'etc/app': 'three tags, one digest\n' }]);
});
after(() => server.stop());

describe('berth delete', () => {
  test('a tag reference deletes that tag only; the manifest and its other tags stay', async () => {
    await pushTags(server.host, 'danger/app', ['1.0', 'latest', 'stable']);
    const r = await berth(['delete', `${server.host}/danger/app:1.0`], env());
    ok(r);
    assert.equal(r.stdout, `Untagged: ${server.host}/danger/app:1.0\n`);
    assert.deepEqual(await tagsOf(server.url, 'danger/app'), ['latest', 'stable']);
    assert.equal((await fetch(`${server.url}/v2/danger/app/manifests/${image.manifestDigest}`, { method: 'HEAD' })).status, 200);
  });

  test('a digest reference deletes the manifest only when confirmed, listing every tag it takes', async () => {
    await pushTags(server.host, 'danger/digest', ['latest', 'stable']);
    const ref = `${server.host}/danger/digest@${image.manifestDigest}`;
    const refused = await berth(['delete', ref], env());
    assert.equal(refused.code, Exit.usage, refused.stderr);
    assert.match(refused.stderr, /removes .*danger\/digest@sha256:[0-9a-f]{64} and its tag\(s\) latest, stable; nothing was deleted: confirm with --yes/);
    assert.deepEqual(await tagsOf(server.url, 'danger/digest'), ['latest', 'stable'], 'nothing deleted without confirmation');

    const done = await berth(['delete', '--yes', ref], env());
    ok(done);
    assert.equal(done.stdout, [`Untagged: ${server.host}/danger/digest:latest`, `Untagged: ${server.host}/danger/digest:stable`, `Deleted: ${server.host}/danger/digest@${image.manifestDigest}`, ''].join('\n'));
    assert.deepEqual(await tagsOf(server.url, 'danger/digest'), []);
    assert.equal((await fetch(`${server.url}/v2/danger/digest/manifests/${image.manifestDigest}`, { method: 'HEAD' })).status, 404);
  });

  test('--manifest with a tag deletes the manifest; on a terminal it asks first', { skip: missingTools('tmux') }, async () => {
    await pushTags(server.host, 'danger/asked', ['v1', 'v2']);
    const e = env();
    const term = new Terminal(['delete', '--manifest', `${server.host}/danger/asked:v1`], e);
    try {
      await term.waitFor(/Delete the manifest .*danger\/asked@sha256:[0-9a-f]{64} and its tag\(s\) v1, v2\? \[y\/N\]/);
      term.type('n');
      const screen = await term.waitFor(/EXIT=\d+/);
      assert.match(screen, /Nothing deleted\.\s+EXIT=0/);
    } finally {
      term.close();
    }
    assert.deepEqual(await tagsOf(server.url, 'danger/asked'), ['v1', 'v2']);
    const yes = await berth(['delete', '--manifest', '-y', '--json', `${server.host}/danger/asked:v1`], e);
    ok(yes);
    assert.deepEqual(JSON.parse(yes.stdout), { untagged: ['v1', 'v2'], deleted: image.manifestDigest });
    assert.deepEqual(await tagsOf(server.url, 'danger/asked'), []);
  });

  test('a tag that does not exist: exit 3', async () => {
    const r = await berth(['delete', `${server.host}/danger/app:nope`], env());
    assert.equal(r.code, Exit.notFound, r.stderr);
  });
});

describe('berth delete against Distribution 2.8', { skip: missingTools('docker-registry') }, () => {
  let dist: Distribution;
  before(async () => {
    dist = await startDistribution();
  });
  after(() => dist.stop());

  test('it deletes by digest only (a tag DELETE answers 400 DIGEST_INVALID): berth says so and deletes nothing', async () => {
    await pushTags(dist.host, 'team/app', ['1.0', 'latest']);
    const r = await berth(['delete', `${dist.host}/team/app:1.0`], env());
    assert.equal(r.code, Exit.failure, r.stderr);
    assert.match(r.stderr, new RegExp(`^berth delete: ${dist.host} does not delete a tag alone \\(it answered HTTP 400 DIGEST_INVALID: .*\\); nothing was deleted\\. To delete the manifest with every tag on it: berth delete --manifest ${dist.host}/team/app:1\\.0\\n$`));
    assert.deepEqual(await tagsOf(dist.url, 'team/app'), ['1.0', 'latest']);
  });
});
