import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { BERTH_BIN, tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { skopeoBytes, startTwoRegistries, type TwoRegistries } from '../helpers/two-registries.js';
import { sha256, writeLayoutImage, writeLayoutIndex, type BuiltImage } from '../helpers/layout-image.js';
import { missingTools, mustBytes, Tools } from '../helpers/tools.js';

const skip = missingTools('docker-registry', 'skopeo', 'unshare');
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const TAGS = ['latest', 'v1', 'v2'];

/**
 * The read verbs (ls, catalog, manifest, digest, config, blob) against berth
 * serve and CNCF Distribution, with skopeo as the independent reader. Berth
 * hands out two entries per listing page, so every listing has to follow Link.
 */
describe('reading a registry: ls, catalog, manifest, digest, config, blob', { skip }, () => {
  let regs: TwoRegistries;
  let tools: Tools;
  let amd: BuiltImage;
  let arm: BuiltImage;
  let index: { digest: string; bytes: Buffer };
  const skopeo = (...args: string[]) => skopeoBytes(tools, ...args);

  before(async () => {
    tools = new Tools();
    const dir = tempDir('berth-read-src-');
    amd = await writeLayoutImage(dir, 'amd', [{ 'etc/os-release': 'ID=read\n' }, { 'app/main': Buffer.alloc(20_000, 7) }], { config: { Cmd: ['/app/main'], Labels: { team: 'read' } } });
    arm = await writeLayoutImage(dir, 'arm', [{ 'etc/os-release': 'ID=read-arm\n' }], { arch: 'arm64' });
    index = writeLayoutIndex(dir, 'multi', [{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    regs = await startTwoRegistries({ config: 'limits:\n  maxListEntries: 2\n' });
    for (const { host } of regs.both()) {
      for (const tag of TAGS) ok(await berth(['copy', `oci:${dir}:amd`, `${host}/read/app:${tag}`], env()));
      ok(await berth(['copy', '--all', `oci:${dir}:multi`, `${host}/read/multi:1`], env()));
      ok(await berth(['copy', `oci:${dir}:arm`, `${host}/read/zz:1`], env()));
    }
  });
  after(() => regs?.stop());

  test('ls: every tag across pages, as skopeo list-tags sees them; --json; --digests with the digest each tag names', async () => {
    for (const { name, host } of regs.both()) {
      const listed = JSON.parse((await skopeo('list-tags', `docker://${host}/read/app`)).toString()) as { Tags: string[] };
      const r = await berth(['ls', `${host}/read/app`], env());
      ok(r);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), [...listed.Tags].sort(), name);
      assert.deepEqual([...listed.Tags].sort(), TAGS, name);
      const json = await berth(['ls', '--json', `${host}/read/app`], env());
      assert.deepEqual(JSON.parse(json.stdout), r.stdout.trim().split('\n'), `${name}: --json lists the same`);
      const digests = await berth(['ls', '--digests', `${host}/read/app`], env());
      ok(digests);
      assert.deepEqual(
        digests.stdout.trim().split('\n').map((l) => l.split(/ +/)),
        r.stdout.trim().split('\n').map((t) => [t, amd.manifestDigest]),
        name,
      );
      const withJson = JSON.parse((await berth(['ls', '--digests', '--json', `${host}/read/multi`], env())).stdout) as unknown;
      assert.deepEqual(withJson, [{ tag: '1', digest: index.digest }], `${name}: an index's tag names the index`);
      assert.deepEqual(JSON.parse((await berth(['tags', '--json', `${host}/read/zz`], env())).stdout), ['1'], `${name}: tags is ls`);
    }
    const gone = await berth(['ls', `${regs.berth.host}/no/such`], env());
    assert.equal(gone.code, Exit.notFound, gone.stderr);
    assert.match(gone.stderr, /^berth ls: .*no\/such.*NAME_UNKNOWN/m);
  });

  test('catalog: every repository across pages, text and --json', async () => {
    for (const { name, host } of regs.both()) {
      const r = await berth(['catalog', host], env());
      ok(r);
      assert.deepEqual(r.stdout.trim().split('\n'), ['read/app', 'read/multi', 'read/zz'], name);
      assert.deepEqual(JSON.parse((await berth(['catalog', '--json', host], env())).stdout), ['read/app', 'read/multi', 'read/zz'], name);
    }
  });

  test('manifest and digest: the bytes skopeo reads, the index unless --platform picks a child', async () => {
    for (const { name, host } of regs.both()) {
      const raw = await skopeo('inspect', '--raw', `docker://${host}/read/multi:1`);
      const m = await berth(['manifest', `${host}/read/multi:1`], env());
      ok(m);
      assert.equal(m.stdout, raw.toString(), `${name}: the index byte for byte`);
      assert.equal(sha256(m.stdout), index.digest);
      const child = await berth(['manifest', '--platform', 'linux/arm64', `${host}/read/multi:1`], env());
      ok(child);
      assert.equal(child.stdout, arm.manifest.toString(), `${name}: the arm64 child byte for byte`);
      assert.equal((await berth(['digest', `${host}/read/multi:1`], env())).stdout.trim(), index.digest, name);
      assert.equal((await berth(['digest', '--platform', 'linux/arm64', `${host}/read/multi:1`], env())).stdout.trim(), arm.manifestDigest, name);
      const wrong = await berth(['manifest', '--platform', 'linux/arm64', `${host}/read/app:v1`], env());
      assert.equal(wrong.code, Exit.failure);
      assert.match(wrong.stderr, /does not match the specified platform: wanted linux\/arm64, actual: linux\/amd64/);
      assert.equal(wrong.stdout, '', 'nothing printed for the wrong platform');
      const none = await berth(['manifest', '--platform', 'linux/s390x', `${host}/read/multi:1`], env());
      assert.match(none.stderr, /no image for platform linux\/s390x in the index \(it has: linux\/amd64, linux\/arm64\)/);
    }
  });

  test('config: the config blob skopeo reads; from an index, the platform asked for', async () => {
    for (const { name, host } of regs.both()) {
      const raw = await skopeo('inspect', '--config', '--raw', `docker://${host}/read/app:v1`);
      const c = await berth(['config', `${host}/read/app:v1`], env());
      ok(c);
      assert.equal(c.stdout, raw.toString(), name);
      assert.equal(sha256(c.stdout), amd.configDigest);
      assert.deepEqual((JSON.parse(c.stdout) as { config: unknown }).config, { Cmd: ['/app/main'], Labels: { team: 'read' } });
      const armConfig = await berth(['config', '--platform', 'linux/arm64', `${host}/read/multi:1`], env());
      ok(armConfig);
      assert.equal(sha256(armConfig.stdout), arm.configDigest, name);
    }
  });

  test('blob: the bytes of the digest to stdout or -o; a missing blob is exit 3, a tag exit 2', async () => {
    const layer = amd.layers[1]!;
    for (const { name, host } of regs.both()) {
      const r = await mustBytes(process.execPath, [BERTH_BIN, 'blob', `${host}/read/app@${layer.digest}`], { env: env() });
      assert.equal(sha256(r), layer.digest, name);
      const dir = tempDir('berth-blob-out-');
      const o = await berth(['blob', '-o', join(dir, 'layer.tgz'), `${host}/read/app@${layer.digest}`], env());
      ok(o);
      assert.equal(o.stdout, `${layer.digest}: ${layer.size} bytes written to ${join(dir, 'layer.tgz')}\n`);
      assert.equal(sha256(readFileSync(join(dir, 'layer.tgz'))), layer.digest);
      const missing = `sha256:${'1'.repeat(64)}`;
      const gone = await berth(['blob', `${host}/read/app@${missing}`], env());
      assert.equal(gone.code, Exit.notFound, gone.stderr);
      assert.equal(gone.stderr, `berth blob: blob ${missing} not found in ${host}/read/app\n`);
      const tag = await berth(['blob', `${host}/read/app:v1`], env());
      assert.equal(tag.code, Exit.usage);
      assert.match(tag.stderr, /name the blob by digest/);
    }
  });

  test('blob -o: bytes that do not match the digest leave no file (and an existing one untouched); exit 6', async () => {
    const dir = tempDir('berth-corrupt-src-');
    const img = await writeLayoutImage(dir, 'x', [{ f: Buffer.alloc(9000, 3) }]);
    ok(await berth(['copy', `oci:${dir}:x`, `${regs.berth.host}/corrupt/app:v1`], env()));
    const victim = findFile(regs.berth.dataDir, img.layers[0]!.digest.slice(7));
    const bytes = readFileSync(victim);
    bytes[50] = bytes[50]! ^ 0xff;
    writeFileSync(victim, bytes);
    const out = tempDir('berth-corrupt-out-');
    writeFileSync(join(out, 'kept'), 'what was here before\n');
    for (const file of ['new', 'kept']) {
      const r = await berth(['blob', '-o', join(out, file), `${regs.berth.host}/corrupt/app@${img.layers[0]!.digest}`], env());
      assert.equal(r.code, Exit.integrity, r.stderr);
      assert.match(r.stderr, /failed verification|does not match|mismatch/);
    }
    assert.equal(existsSync(join(out, 'new')), false);
    assert.equal(readFileSync(join(out, 'kept'), 'utf8'), 'what was here before\n');
    assert.deepEqual(readdirSync(out), ['kept'], 'no temporary file left');
  });
});

function findFile(root: string, name: string): string {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.name === name && entry.isFile()) return join(entry.parentPath, entry.name);
  }
  throw new Error(`${name} not under ${root}`);
}
