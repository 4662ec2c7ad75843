import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { startBerth, tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { skopeoBytes, skopeoDigest, startTwoRegistries, type TwoRegistries } from '../helpers/two-registries.js';
import { writeLayoutImage, writeLayoutIndex, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools, Tools } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'unshare');
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

/** berth sync from berth serve (two entries per listing page) into CNCF Distribution, skopeo reading the result. */
describe('berth sync mirrors repositories, copying only what the destination lacks', { skip }, () => {
  let regs: TwoRegistries;
  let tools: Tools;
  let dir: string;
  let amd: BuiltImage;
  let arm: BuiltImage;
  let index: { digest: string; bytes: Buffer };
  const digestOf = (ref: string) => skopeoDigest(tools, ref);
  const tagsOf = async (repo: string) => (JSON.parse((await skopeoBytes(tools, 'list-tags', `docker://${repo}`)).toString()) as { Tags: string[] }).Tags.sort();

  before(async () => {
    tools = new Tools();
    dir = tempDir('berth-sync-src-');
    amd = await writeLayoutImage(dir, 'amd', [{ 'etc/os-release': 'ID=sync\n' }]);
    arm = await writeLayoutImage(dir, 'arm', [{ 'etc/os-release': 'ID=sync-arm\n' }], { arch: 'arm64' });
    index = writeLayoutIndex(dir, 'multi', [{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    regs = await startTwoRegistries({ config: 'limits:\n  maxListEntries: 2\n' });
    for (const tag of ['v1', 'v2']) ok(await berth(['copy', `oci:${dir}:amd`, `${regs.berth.host}/team/app:${tag}`], env()));
    ok(await berth(['copy', `oci:${dir}:multi`, `${regs.berth.host}/team/app:multi`], env()));
  });
  after(() => regs?.stop());

  test('a repository: every tag, then nothing again; --dry-run says what a changed tag would bring and copies nothing', async () => {
    const first = await berth(['sync', `${regs.berth.host}/team/app`, `${regs.distribution.host}/mirror`], env());
    ok(first);
    assert.deepEqual(await tagsOf(`${regs.distribution.host}/mirror/app`), ['multi', 'v1', 'v2']);
    assert.equal(await digestOf(`${regs.distribution.host}/mirror/app:multi`), index.digest, 'the index whole');
    assert.equal(await digestOf(`${regs.distribution.host}/mirror/app:v2`), amd.manifestDigest);
    assert.match(first.stdout, new RegExp(`^Copied ${regs.berth.host}/team/app:v1 to ${regs.distribution.host}/mirror/app:v1 \\(${amd.manifestDigest}\\)$`, 'm'));
    assert.match(first.stdout, /^Copied 3, skipped 0 the destination already had$/m);

    const again = await berth(['sync', `${regs.berth.host}/team/app`, `${regs.distribution.host}/mirror`], env());
    ok(again);
    assert.match(again.stdout, new RegExp(`^Skipped ${regs.berth.host}/team/app:multi: ${regs.distribution.host}/mirror/app:multi already is ${index.digest}$`, 'm'));
    assert.match(again.stdout, /^Copied 0, skipped 3 the destination already had$/m);

    ok(await berth(['copy', `oci:${dir}:arm`, `${regs.berth.host}/team/app:v2`], env()));
    const dry = await berth(['sync', '--dry-run', `${regs.berth.host}/team/app`, `${regs.distribution.host}/mirror`], env());
    ok(dry);
    assert.match(dry.stdout, new RegExp(`^Would copy ${regs.berth.host}/team/app:v2 to ${regs.distribution.host}/mirror/app:v2 \\(${arm.manifestDigest}\\)$`, 'm'));
    assert.match(dry.stdout, /^Would copy 1, skip 2 \(dry run: nothing was copied\)$/m);
    assert.equal(await digestOf(`${regs.distribution.host}/mirror/app:v2`), amd.manifestDigest, 'the dry run changed nothing');

    const json = JSON.parse((await berth(['sync', '--json', `${regs.berth.host}/team/app:v2`, `${regs.distribution.host}/mirror`], env())).stdout) as { outcome: string }[];
    assert.deepEqual(json.map((j) => j.outcome), ['copied']);
    assert.equal(await digestOf(`${regs.distribution.host}/mirror/app:v2`), arm.manifestDigest);
  });

  test("a YAML list in skopeo's format: tags, digests and a tag pattern, into berth serve", async () => {
    const list = join(tempDir('berth-sync-yaml-'), 'sync.yaml');
    writeFileSync(list, `${regs.berth.host}:\n  images:\n    team/app:\n      - v1\n      - "${arm.manifestDigest}"\n  images-by-tag-regex:\n    team/app: ^mul\n`);
    const dst = await startBerth();
    try {
      ok(await berth(['sync', '--src', 'yaml', list, `${dst.host}/copies/of`], env()));
      assert.deepEqual(await tagsOf(`${dst.host}/copies/of/app`), ['multi', 'v1']);
      assert.equal(await digestOf(`${dst.host}/copies/of/app@${arm.manifestDigest}`), arm.manifestDigest);
      assert.equal(await digestOf(`${dst.host}/copies/of/app:multi`), index.digest);
    } finally {
      await dst.stop();
    }
    writeFileSync(list, `${regs.berth.host}:\n  images:\n    team/app: []\n  credentials:\n    username: u\n    password: hunter2hunter2\n`);
    const creds = await berth(['sync', '--src', 'yaml', list, `${regs.distribution.host}/x`], env());
    assert.equal(creds.code, Exit.usage);
    assert.match(creds.stderr, /credentials/);
    assert.doesNotMatch(creds.stderr + creds.stdout, /hunter2/, 'the password is never printed');
    const missing = await berth(['sync', `${regs.berth.host}/team/app:nope`, `${regs.distribution.host}/x`], env());
    assert.equal(missing.code, Exit.notFound, missing.stderr);
  });
});
