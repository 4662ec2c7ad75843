import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { skopeoBytes, skopeoDigest, startTwoRegistries, type TwoRegistries } from '../helpers/two-registries.js';
import { sha256, writeLayoutImage, writeLayoutIndex, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools, Tools } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'unshare', 'tar');
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

interface Config {
  config: { Labels?: Record<string, string>; Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; User?: string; WorkingDir?: string };
  rootfs: { diff_ids: string[] };
  history?: { created_by?: string }[];
}

/** mutate and append on berth serve and CNCF Distribution; skopeo reads the configs, manifests and layers they made. */
describe('editing an image on the registry: mutate and append', { skip }, () => {
  let regs: TwoRegistries;
  let tools: Tools;
  let base: BuiltImage;
  const skopeo = (...args: string[]) => skopeoBytes(tools, ...args);
  const configOf = async (ref: string) => JSON.parse((await skopeo('inspect', '--config', '--raw', `docker://${ref}`)).toString()) as Config;
  const digestOf = (ref: string) => skopeoDigest(tools, ref);

  before(async () => {
    tools = new Tools();
    const dir = tempDir('berth-edit-src-');
    base = await writeLayoutImage(dir, 'base', [{ 'etc/os-release': 'ID=edit\n' }], { config: { Env: ['PATH=/bin', 'MODE=dev'], Cmd: ['/bin/sh'], Labels: { keep: 'me' } } });
    const arm = await writeLayoutImage(dir, 'arm', [{ 'etc/os-release': 'ID=edit-arm\n' }], { arch: 'arm64' });
    writeLayoutIndex(dir, 'multi', [{ image: base, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    regs = await startTwoRegistries();
    for (const { host } of regs.both()) {
      ok(await berth(['copy', `oci:${dir}:base`, `${host}/edit/app:1`], env()));
      ok(await berth(['copy', `oci:${dir}:multi`, `${host}/edit/app:multi`], env()));
    }
  });
  after(() => regs?.stop());

  test('mutate: labels, env, entrypoint, cmd, user, workdir and annotations; the layers stay, the new digest is printed', async () => {
    for (const { name, host } of regs.both()) {
      const r = await berth(
        ['mutate', `${host}/edit/app:1`, '-t', `${host}/edited/app:1`, '--label', 'org.opencontainers.image.version=1.2', '--env', 'MODE=production', '--env', 'EXTRA=1',
          '--entrypoint', '["/srv/app","--serve"]', '--cmd', '', '--user', 'app', '--workdir', '/srv', '--annotation', 'org.example/reviewed=yes'],
        env(),
      );
      ok(r);
      const digest = await digestOf(`${host}/edited/app:1`);
      assert.equal(r.stdout, `${host}/edited/app:1: digest: ${digest} (was ${base.manifestDigest})\n`, name);
      const config = await configOf(`${host}/edited/app:1`);
      assert.deepEqual(config.config, {
        Env: ['PATH=/bin', 'MODE=production', 'EXTRA=1'],
        Cmd: null,
        Labels: { keep: 'me', 'org.opencontainers.image.version': '1.2' },
        Entrypoint: ['/srv/app', '--serve'],
        User: 'app',
        WorkingDir: '/srv',
      }, name);
      const manifest = JSON.parse((await skopeo('inspect', '--raw', `docker://${host}/edited/app:1`)).toString()) as { layers: { digest: string }[]; annotations: Record<string, string> };
      assert.deepEqual(manifest.layers.map((l) => l.digest), base.layers.map((l) => l.digest), 'the same layers');
      assert.deepEqual(manifest.annotations, { 'org.example/reviewed': 'yes' });
      assert.equal(await digestOf(`${host}/edit/app:1`), base.manifestDigest, 'the source is untouched');
    }
  });

  test('mutate without -t moves the source tag; an index needs --platform; bad values are exit 2 and change nothing', async () => {
    const ref = `${regs.berth.host}/edit/app:moving`;
    ok(await berth(['retag', `${regs.berth.host}/edit/app:1`, 'moving'], env()));
    ok(await berth(['mutate', ref, '--label', 'moved=yes'], env()));
    assert.equal((await configOf(ref)).config.Labels?.moved, 'yes');
    const idx = await berth(['mutate', `${regs.berth.host}/edit/app:multi`, '--label', 'a=b', '-t', `${regs.berth.host}/edit/app:x`], env());
    assert.equal(idx.code, Exit.usage);
    assert.match(idx.stderr, /is an index of several images: name one with --platform os\/arch/);
    ok(await berth(['mutate', `${regs.berth.host}/edit/app:multi`, '--platform', 'linux/arm64', '--label', 'a=b', '-t', `${regs.berth.host}/edit/app:arm-labelled`], env()));
    assert.equal((await configOf(`${regs.berth.host}/edit/app:arm-labelled`)).config.Labels?.a, 'b');
    for (const bad of [['--entrypoint', '[/srv/app'], ['--env', 'NOEQUALS'], ['--label', '=v'], []]) {
      const r = await berth(['mutate', `${regs.berth.host}/edit/app:1`, ...bad, '-t', `${regs.berth.host}/edit/app:bad`], env());
      assert.equal(r.code, Exit.usage, `${bad.join(' ')}: ${r.stderr}`);
    }
    const tags = JSON.parse((await skopeo('list-tags', `docker://${regs.berth.host}/edit/app`)).toString()) as { Tags: string[] };
    assert.ok(!tags.Tags.includes('bad'), 'nothing was pushed for bad input');
  });

  test('append: a tar becomes the top layer (gzip, diff_id, history); skopeo unpacks the file; a non-tar is refused', async () => {
    const work = tempDir('berth-append-');
    mkdirSync(join(work, 'root', 'opt'), { recursive: true });
    writeFileSync(join(work, 'root', 'opt', 'added.txt'), 'appended by berth\n');
    const tarFile = join(work, 'add.tar');
    execFileSync('tar', ['-C', join(work, 'root'), '-cf', tarFile, 'opt']);
    for (const { name, host } of regs.both()) {
      const r = await berth(['append', `${host}/edit/app:1`, '--layer', tarFile, '-t', `${host}/appended/app:1`], env());
      ok(r);
      const config = await configOf(`${host}/appended/app:1`);
      const manifest = JSON.parse((await skopeo('inspect', '--raw', `docker://${host}/appended/app:1`)).toString()) as { layers: { digest: string; mediaType: string }[] };
      assert.equal(manifest.layers.length, base.layers.length + 1, name);
      const top = manifest.layers.at(-1)!;
      assert.equal(top.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      const out = tempDir('berth-append-out-');
      await tools.skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${host}/appended/app:1`, `dir:${out}`);
      const layerBytes = readFileSync(join(out, top.digest.slice(7)));
      const tarBytes = gunzipSync(layerBytes);
      assert.equal(sha256(tarBytes), config.rootfs.diff_ids.at(-1), `${name}: diff_id is the tar's digest`);
      assert.equal(sha256(tarBytes), sha256(readFileSync(tarFile)), 'the tar as given');
      assert.equal(config.history?.at(-1)?.created_by, 'berth append add.tar');
      assert.ok(execFileSync('tar', ['-tzf', join(out, top.digest.slice(7))], { encoding: 'utf8' }).includes('opt/added.txt'));
    }
    writeFileSync(join(work, 'not.tar'), 'just some text, certainly not a tar archive'.repeat(20));
    const bad = await berth(['append', `${regs.berth.host}/edit/app:1`, '--layer', join(work, 'not.tar'), '-t', `${regs.berth.host}/appended/app:bad`], env());
    assert.equal(bad.code, Exit.usage, bad.stderr);
    assert.match(bad.stderr, /not\.tar is not a tar archive/);
  });
});
