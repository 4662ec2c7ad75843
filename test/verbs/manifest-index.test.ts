import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { skopeoBytes, startTwoRegistries, type TwoRegistries } from '../helpers/two-registries.js';
import { sha256, writeLayoutImage, writeLayoutIndex, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools, Tools } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'unshare');
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

interface Index {
  mediaType: string;
  manifests: { digest: string; platform: { os: string; architecture: string; variant?: string }; annotations?: Record<string, string> }[];
}

/** berth manifest create/annotate/push on berth serve and CNCF Distribution; skopeo reads and copies the index. */
describe('building a multi-platform index from images on the registry', { skip }, () => {
  let regs: TwoRegistries;
  let tools: Tools;
  let amd: BuiltImage;
  let arm: BuiltImage;
  const skopeo = (...args: string[]) => skopeoBytes(tools, ...args);

  before(async () => {
    tools = new Tools();
    const dir = tempDir('berth-index-src-');
    amd = await writeLayoutImage(dir, 'amd', [{ 'etc/arch': 'amd64\n' }]);
    arm = await writeLayoutImage(dir, 'arm', [{ 'etc/arch': 'arm64\n' }], { arch: 'arm64' });
    writeLayoutIndex(dir, 'multi', [{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    regs = await startTwoRegistries();
    const e = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') };
    for (const { host } of regs.both()) {
      ok(await berth(['copy', `oci:${dir}:amd`, `${host}/app/amd64:1`], e));
      ok(await berth(['copy', `oci:${dir}:arm`, `${host}/app/arm64:1`], e));
      ok(await berth(['copy', `oci:${dir}:multi`, `${host}/app/multi:1`], e));
    }
  });
  after(() => regs?.stop());

  test('create takes each platform from the config, annotate sets variant and annotations, push mounts the images in and puts the index', async () => {
    for (const { name, host } of regs.both()) {
      const e = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') };
      const list = `${host}/app/all:1`;
      const created = await berth(['manifest', 'create', list, `${host}/app/amd64:1`, `${host}/app/arm64:1`], e);
      ok(created);
      assert.equal(created.stdout, `Created manifest list ${list}\n`);
      ok(await berth(['manifest', 'annotate', list, `${host}/app/arm64:1`, '--variant', 'v8', '--annotation', 'org.example/tier=edge'], e));
      const pushed = await berth(['manifest', 'push', '--purge', list], e);
      ok(pushed);
      const raw = await skopeo('inspect', '--raw', `docker://${list}`);
      assert.equal(pushed.stdout, `${sha256(raw)}\n`, `${name}: push prints the digest the registry serves`);
      const index = JSON.parse(raw.toString()) as Index;
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(index.manifests.map((m) => [m.digest, m.platform]), [
        [amd.manifestDigest, { os: 'linux', architecture: 'amd64' }],
        [arm.manifestDigest, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      ], name);
      assert.deepEqual(index.manifests[1]!.annotations, { 'org.example/tier': 'edge' });
      const out = tempDir('berth-index-copy-');
      await tools.skopeo('copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${list}`, `oci:${out}:all`);
      assert.ok(readdirSync(join(out, 'blobs', 'sha256')).includes(arm.layers[0]!.digest.slice(7)), `${name}: skopeo copies every platform of the index from its repository`);
      assert.equal(existsSync(join(e.BERTH_HOME, 'manifests', `${encodeURIComponent(list)}.json`)), false, '--purge removed the draft');
      const again = await berth(['manifest', 'push', list], e);
      assert.equal(again.code, Exit.notFound);
      assert.match(again.stderr, /no draft of .*: start one with berth manifest create/);
    }
  });

  test('create refuses an index as an entry and a second create without --amend; annotate names what the draft has', async () => {
    const e = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') };
    const list = `${regs.berth.host}/app/draft:1`;
    const idx = await berth(['manifest', 'create', list, `${regs.berth.host}/app/multi:1`], e);
    assert.equal(idx.code, Exit.usage);
    assert.match(idx.stderr, /is an index itself/);
    ok(await berth(['manifest', 'create', list, `${regs.berth.host}/app/amd64:1`], e));
    const twice = await berth(['manifest', 'create', list, `${regs.berth.host}/app/arm64:1`], e);
    assert.equal(twice.code, Exit.usage);
    assert.match(twice.stderr, /a draft of .* exists already: --amend adds to it/);
    ok(await berth(['manifest', 'create', '--amend', list, `${regs.berth.host}/app/arm64:1`], e));
    const missing = await berth(['manifest', 'annotate', list, `${regs.berth.host}/app/nope:1`, '--os', 'linux'], e);
    assert.equal(missing.code, Exit.notFound);
    assert.match(missing.stderr, new RegExp(`it has ${regs.berth.host}/app/amd64:1, ${regs.berth.host}/app/arm64:1`));
  });
});
