import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { skopeoBytes, skopeoDigest, startTwoRegistries, type TwoRegistries } from '../helpers/two-registries.js';
import { sha256, writeLayoutImage, writeLayoutIndex, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools, Tools } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'unshare');
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

/** retag, copy of an index, copy --platform and copy --all-tags on berth serve and CNCF Distribution; skopeo reads the results. */
describe('retag and copy on the registry', { skip }, () => {
  let regs: TwoRegistries;
  let tools: Tools;
  let amd: BuiltImage;
  let arm: BuiltImage;
  let index: { digest: string; bytes: Buffer };
  const digestOf = (ref: string) => skopeoDigest(tools, ref);

  before(async () => {
    tools = new Tools();
    const dir = tempDir('berth-retag-src-');
    amd = await writeLayoutImage(dir, 'amd', [{ 'etc/os-release': 'ID=retag\n' }]);
    arm = await writeLayoutImage(dir, 'arm', [{ 'etc/os-release': 'ID=retag-arm\n' }], { arch: 'arm64' });
    index = writeLayoutIndex(dir, 'multi', [{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    regs = await startTwoRegistries({ config: 'limits:\n  maxListEntries: 2\n' });
    for (const { host } of regs.both()) {
      ok(await berth(['copy', `oci:${dir}:amd`, `${host}/src/app:v1`], env()));
      ok(await berth(['copy', `oci:${dir}:multi`, `${host}/src/app:multi`], env()));
      ok(await berth(['copy', `oci:${dir}:arm`, `${host}/src/app:arm`], env()));
    }
  });
  after(() => regs?.stop());

  test('copy keeps an index whole by default; --platform takes one image and says the digest changes', async () => {
    for (const { name, host } of regs.both()) {
      const whole = await berth(['copy', `${host}/src/app:multi`, `${host}/whole/app:1`], env());
      ok(whole);
      assert.equal(await digestOf(`${host}/whole/app:1`), index.digest, `${name}: the index, not one platform of it`);
      assert.equal(await digestOf(`${host}/whole/app@${arm.manifestDigest}`), arm.manifestDigest, `${name}: its children came along`);
      const one = await berth(['copy', '--platform', 'linux/arm64', `${host}/src/app:multi`, `${host}/one/app:1`], env());
      ok(one);
      assert.equal(await digestOf(`${host}/one/app:1`), arm.manifestDigest, name);
      assert.equal(one.stderr, `Selected the linux/arm64 image of the index ${index.digest}; the destination's digest is that image's, ${arm.manifestDigest}\n`);
      assert.match(one.stdout, new RegExp(`^Digest: ${arm.manifestDigest}$`, 'm'));
    }
    const both = await berth(['copy', '--all', '--platform', 'linux/arm64', `${regs.berth.host}/src/app:multi`, `${regs.berth.host}/x/app:1`], env());
    assert.equal(both.code, Exit.usage);
    assert.match(both.stderr, /--all and --platform contradict each other/);
  });

  test('retag: a new tag in the same repository, or a tag in another repository of the same registry; the digest stays', async () => {
    for (const { name, host } of regs.both()) {
      const r = await berth(['retag', `${host}/src/app:v1`, 'v1-stable'], env());
      ok(r);
      assert.equal(r.stdout, `${host}/src/app:v1-stable: digest: ${amd.manifestDigest}\n`);
      assert.equal(await digestOf(`${host}/src/app:v1-stable`), amd.manifestDigest, name);
      const idx = await berth(['retag', `${host}/src/app:multi`, `${host}/released/app:2`], env());
      ok(idx);
      assert.equal(await digestOf(`${host}/released/app:2`), index.digest, `${name}: an index into another repository, children and blobs mounted`);
      assert.equal(await digestOf(`${host}/released/app@${amd.manifestDigest}`), amd.manifestDigest);
      const config = await skopeoBytes(tools, 'inspect', '--config', '--raw', `docker://${host}/released/app@${arm.manifestDigest}`);
      assert.equal(sha256(config), arm.configDigest, `${name}: the blobs are readable in the new repository`);
    }
    const other = await berth(['retag', `${regs.berth.host}/src/app:v1`, `${regs.distribution.host}/src/app:v1`], env());
    assert.equal(other.code, Exit.usage);
    assert.match(other.stderr, /retag stays on one registry; use berth copy/);
    const missing = await berth(['retag', `${regs.berth.host}/src/app:nope`, 'v2'], env());
    assert.equal(missing.code, Exit.notFound, missing.stderr);
  });

  test('copy --all-tags: every tag of a repository (across pages), indexes whole, from berth serve to Distribution and back', async () => {
    const pairs: [string, string][] = [
      [regs.berth.host, regs.distribution.host],
      [regs.distribution.host, regs.berth.host],
    ];
    for (const [from, to] of pairs) {
      const r = await berth(['copy', '--all-tags', `${from}/src/app`, `${to}/mirror-${from.split(':')[1]}/app`], env());
      ok(r);
      const tags = JSON.parse((await skopeoBytes(tools, 'list-tags', `docker://${to}/mirror-${from.split(':')[1]}/app`)).toString()) as { Tags: string[] };
      const want = JSON.parse((await skopeoBytes(tools, 'list-tags', `docker://${from}/src/app`)).toString()) as { Tags: string[] };
      assert.deepEqual([...tags.Tags].sort(), [...want.Tags].sort());
      assert.ok(want.Tags.length >= 3, 'more tags than berth puts on one page');
      for (const tag of want.Tags) assert.equal(await digestOf(`${to}/mirror-${from.split(':')[1]}/app:${tag}`), await digestOf(`${from}/src/app:${tag}`), tag);
      assert.match(r.stdout, new RegExp(`^Copied ${want.Tags.length} tags$`, 'm'));
    }
    const tagged = await berth(['copy', '--all-tags', `${regs.berth.host}/src/app:v1`, `${regs.berth.host}/m/app`], env());
    assert.equal(tagged.code, Exit.usage);
    assert.match(tagged.stderr, /name the repository alone, without a tag or digest/);
  });
});
