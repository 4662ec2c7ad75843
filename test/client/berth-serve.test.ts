import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { sha256, writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';

let server: BerthServer;
let src: string;
let base: BuiltImage;
let app: BuiltImage;
let tool: BuiltImage;
const BASE_FILES = { 'etc/os-release': 'ID=berth\n', 'bin/sh': Buffer.alloc(40_000, 7) };

const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: { code: number; stderr: string; stdout: string }) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const blobFiles = (home: string) => readdirSync(join(home, 'blobs', 'sha256'));
const blobGets = () => server.logs.filter((l) => l.method === 'GET' && String(l.path).includes('/blobs/sha256:')).length;

before(async () => {
  server = await startBerth();
  src = tempDir('berth-src-');
  // Two images over one shared base layer: the df lesson in miniature.
  base = await writeLayoutImage(src, 'base', [BASE_FILES]);
  app = await writeLayoutImage(src, 'app', [BASE_FILES, { 'app/main.js': Buffer.alloc(30_000, 1) }]);
  tool = await writeLayoutImage(src, 'tool', [BASE_FILES, { 'usr/bin/tool': Buffer.alloc(20_000, 2) }]);
  const e = env();
  for (const t of ['app', 'tool', 'base']) ok(await berth(['copy', `oci:${src}:${t}`, `${server.host}/lib/${t}:v1`], e));
});
after(() => server.stop());

describe('berth against berth serve', () => {
  test('pull prints docker-style progress; a second pull transfers only the manifest', async () => {
    const e = env();
    const first = await berth(['pull', `${server.host}/lib/app:v1`], e);
    ok(first);
    assert.match(first.stdout, /^v1: Pulling from lib\/app$/m);
    assert.match(first.stdout, new RegExp(`^${app.layers[1]!.digest.slice(7, 19)}: Pull complete$`, 'm'));
    assert.match(first.stdout, new RegExp(`^Digest: ${app.manifestDigest}$`, 'm'));
    assert.match(first.stdout, /^Status: Downloaded newer image for 127\.0\.0\.1:\d+\/lib\/app:v1$/m);
    const before = blobGets();
    const second = await berth(['pull', '--json', `${server.host}/lib/app:v1`], e);
    ok(second);
    const out = JSON.parse(second.stdout) as { upToDate: boolean; transferred: number; digest: string };
    assert.equal(out.upToDate, true);
    assert.equal(out.transferred, 0);
    assert.equal(out.digest, app.manifestDigest);
    assert.equal(blobGets(), before, 'no blob was downloaded again');
  });

  test('df -v: shared blobs are counted once on disk, once per image in the sum', async () => {
    const e = env();
    ok(await berth(['pull', `${server.host}/lib/app:v1`], e));
    const toolPull = await berth(['pull', `${server.host}/lib/tool:v1`], e);
    ok(toolPull);
    assert.match(toolPull.stdout, new RegExp(`^${base.layers[0]!.digest.slice(7, 19)}: Already exists$`, 'm'));
    const df = await berth(['df', '--json'], e);
    ok(df);
    const u = JSON.parse(df.stdout) as { images: { reference: string; size: number; shared: number; unique: number }[]; sumOfSizes: number; diskBytes: number };
    const sharedLayer = base.layers[0]!.size;
    const onDisk = blobFiles(e.BERTH_HOME).reduce((a, f) => a + statSync(join(e.BERTH_HOME, 'blobs', 'sha256', f)).size, 0);
    assert.equal(u.diskBytes, onDisk);
    for (const img of u.images) {
      assert.equal(img.shared, sharedLayer, `${img.reference} shares exactly the base layer`);
      assert.equal(img.unique, img.size - sharedLayer);
    }
    const imageBytes = (i: BuiltImage) => i.manifest.length + i.layers.reduce((a, l) => a + l.size, 0) + statSync(join(src, 'blobs', 'sha256', i.configDigest.slice(7))).size;
    assert.equal(u.sumOfSizes, imageBytes(app) + imageBytes(tool));
    assert.equal(u.sumOfSizes - u.diskBytes, sharedLayer, 'the sum exceeds the disk by the shared layer counted twice');
    const human = await berth(['df', '-v'], e);
    assert.match(human.stdout, /REPOSITORY\s+TAG\s+DIGEST\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE/);
    assert.match(human.stdout, /Sum of image sizes:/);

    // rmi frees exactly the unique part; the shared layer stays for the other image.
    const appUnique = u.images.find((i) => i.reference.endsWith('/lib/app:v1'))!.unique;
    const rmi = await berth(['rmi', '--json', `${server.host}/lib/app:v1`], e);
    ok(rmi);
    assert.equal((JSON.parse(rmi.stdout) as { freed: number }[])[0]!.freed, appUnique);
    assert.ok(existsSync(join(e.BERTH_HOME, 'blobs', 'sha256', base.layers[0]!.digest.slice(7))));
    assert.ok(!existsSync(join(e.BERTH_HOME, 'blobs', 'sha256', app.layers[1]!.digest.slice(7))));
    ok(await berth(['store', 'verify'], e));
    ok(await berth(['rmi', `${server.host}/lib/tool:v1`], e));
    assert.deepEqual(blobFiles(e.BERTH_HOME), []);
  });

  test('tag + push to another repository mounts blobs and keeps the digest; skopeo and podman see the same digest', async () => {
    const e = env();
    ok(await berth(['pull', `${server.host}/lib/app:v1`], e));
    ok(await berth(['tag', `${server.host}/lib/app:v1`, `${server.host}/team/copy:v2`], e));
    const images = JSON.parse((await berth(['images', '--json'], e)).stdout) as { repository: string; tag: string }[];
    assert.deepEqual(images.map((i) => `${i.repository}:${i.tag}`).sort(), [`${server.host}/lib/app:v1`, `${server.host}/team/copy:v2`]);
    const push = await berth(['push', `${server.host}/team/copy:v2`], e);
    ok(push);
    assert.match(push.stdout, /Mounted from another repository/);
    assert.match(push.stdout, new RegExp(`^v2: digest: ${app.manifestDigest} size: ${app.manifest.length}$`, 'm'));
    assert.ok(server.logs.some((l) => l.method === 'POST' && String(l.path).includes('/team/copy/blobs/uploads/') && l.status === 201));
    const skopeo = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${server.host}/team/copy:v2`], { encoding: 'utf8' })) as { Digest: string };
    assert.equal(skopeo.Digest, app.manifestDigest);
    const podman = tempDir('berth-podman-');
    const pm = ['--root', join(podman, 'root'), '--runroot', join(podman, 'run'), '--storage-driver', 'vfs'];
    execFileSync('podman', [...pm, 'pull', '-q', '--tls-verify=false', `${server.host}/team/copy:v2`], { stdio: 'ignore' });
    const podmanDigest = execFileSync('podman', [...pm, 'images', '--digests', '--format', '{{.Digest}}'], { encoding: 'utf8' }).trim();
    assert.equal(podmanDigest, app.manifestDigest);
    execFileSync('podman', [...pm, 'system', 'reset', '-f'], { stdio: 'ignore' });
    const remote = await berth(['digest', `docker://${server.host}/team/copy:v2`], e);
    ok(remote);
    assert.equal(remote.stdout.trim(), app.manifestDigest);
    const manifest = await berth(['manifest', `docker://${server.host}/team/copy:v2`], e);
    ok(manifest);
    assert.equal(sha256(manifest.stdout), app.manifestDigest, 'raw bytes as stored');
    assert.deepEqual((await berth(['tags', '--json', `${server.host}/team/copy`], e)).stdout.trim(), JSON.stringify(['v2'], null, 2));
    assert.match((await berth(['catalog', server.host], e)).stdout, /^team\/copy$/m);
    ok(await berth(['delete', `${server.host}/team/copy:v2`], e));
    const gone = await berth(['digest', `docker://${server.host}/team/copy:v2`], e);
    assert.equal(gone.code, 3, gone.stderr);
  });

  test('skopeo pushes, berth pulls: identical digests', async () => {
    const e = env();
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${src}:tool`, `docker://${server.host}/sk/tool:v1`], { stdio: 'ignore' });
    const pull = await berth(['pull', '--json', `${server.host}/sk/tool:v1`], e);
    ok(pull);
    assert.equal((JSON.parse(pull.stdout) as { digest: string }).digest, tool.manifestDigest);
    const inspect = await berth(['inspect', '--json', `${server.host}/sk/tool:v1`], e);
    const info = JSON.parse(inspect.stdout) as { config: { architecture: string }; size: number };
    assert.equal(info.config.architecture, 'amd64');
    assert.equal(info.size, tool.layers.reduce((a, l) => a + l.size, 0));
  });

  test('docker-archive written by berth loads back through skopeo with the same image ID and layers', async () => {
    const e = env();
    const out = join(tempDir(), 'app.tar');
    ok(await berth(['copy', `${server.host}/lib/app:v1`, `docker-archive:${out}`], e));
    const listing = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n');
    assert.ok(listing.includes('manifest.json') && listing.includes(`${app.configDigest.slice(7)}.json`), listing.join(','));
    const saved = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' })) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(saved[0]!.RepoTags, [`${server.host}/lib/app:v1`]);
    const dir = tempDir();
    execFileSync('skopeo', ['copy', `docker-archive:${out}`, `oci:${dir}:loaded`], { stdio: 'ignore' });
    const loaded = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${dir}:loaded`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
    const config = JSON.parse(readFileSync(join(src, 'blobs', 'sha256', app.configDigest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(loaded.rootfs.diff_ids, config.rootfs.diff_ids);
    assert.deepEqual(saved[0]!.Layers, config.rootfs.diff_ids.map((d) => `${d.slice(7)}.tar`));
    // And back into a registry from the archive: berth reads what it wrote.
    ok(await berth(['copy', `docker-archive:${out}`, `${server.host}/from/archive:v1`], e));
    const inspect = JSON.parse((await berth(['inspect', '--json', `docker://${server.host}/from/archive:v1`], e)).stdout) as { config: { rootfs: { diff_ids: string[] } } };
    assert.deepEqual(inspect.config.rootfs.diff_ids, config.rootfs.diff_ids);
  });

  test('a docker-archive written by skopeo (docker save format) is read by berth', async () => {
    const e = env();
    const file = join(tempDir(), 'skopeo.tar');
    execFileSync('skopeo', ['copy', `oci:${src}:tool`, `docker-archive:${file}:example/tool:v1`], { stdio: 'ignore' });
    ok(await berth(['copy', `docker-archive:${file}:example/tool:v1`, `local:${server.host}/from/skopeo:v1`], e));
    const info = JSON.parse((await berth(['inspect', '--json', `${server.host}/from/skopeo:v1`], e)).stdout) as { config: { rootfs: { diff_ids: string[] } }; manifest: { layers: { digest: string }[] } };
    const config = JSON.parse(readFileSync(join(src, 'blobs', 'sha256', tool.configDigest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(info.config.rootfs.diff_ids, config.rootfs.diff_ids);
    assert.deepEqual(info.manifest.layers.map((l) => l.digest), config.rootfs.diff_ids, 'layers are the uncompressed tars docker save holds');
    ok(await berth(['push', `${server.host}/from/skopeo:v1`], e));
  });

  test('oci-archive and oci: round trips keep the manifest digest', async () => {
    const e = env();
    const file = join(tempDir(), 'app.oci.tar');
    ok(await berth(['copy', `${server.host}/lib/app:v1`, `oci-archive:${file}:v1`], e));
    const sk = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}:v1`], { encoding: 'utf8' })) as { Digest: string };
    assert.equal(sk.Digest, app.manifestDigest);
    const dir = tempDir();
    ok(await berth(['copy', `oci-archive:${file}:v1`, `oci:${dir}:again`], e));
    const back = await berth(['copy', '--json', `oci:${dir}:again`, `${server.host}/round/trip:v1`], e);
    ok(back);
    assert.equal((JSON.parse(back.stdout) as { digest: string }).digest, app.manifestDigest);
  });

  test('multi-arch: copy --all keeps the index; pull --platform takes one image, --all-platforms all', async () => {
    const e = env();
    const dir = tempDir();
    const amd = await writeLayoutImage(dir, 'amd', [{ a: 'amd64' }], { arch: 'amd64' });
    const arm = await writeLayoutImage(dir, 'arm', [{ a: 'arm64' }], { arch: 'arm64' });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.manifestDigest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.manifestDigest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
    );
    const indexDigest = sha256(index);
    writeFileSync(join(dir, 'blobs', 'sha256', indexDigest.slice(7)), index);
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
    );
    ok(await berth(['copy', '--all', `oci:${dir}:multi`, `${server.host}/multi/app:v1`], e));
    const pull = await berth(['pull', '--platform', 'linux/arm64', `${server.host}/multi/app:v1`], e);
    ok(pull);
    assert.match(pull.stdout, new RegExp(`^Digest: ${indexDigest}$`, 'm'), 'docker prints the digest the tag names');
    const local = JSON.parse((await berth(['inspect', '--json', `${server.host}/multi/app:v1`], e)).stdout) as { digest: string; config: { architecture: string } };
    assert.equal(local.digest, arm.manifestDigest);
    assert.equal(local.config.architecture, 'arm64');
    const images = JSON.parse((await berth(['images', '--json'], e)).stdout) as { digest: string }[];
    assert.equal(images[0]!.digest, indexDigest);
    const bad = await berth(['pull', '--platform', 'linux/s390x', `${server.host}/multi/app:v1`], e);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no image for platform linux\/s390x.*linux\/amd64, linux\/arm64/);
    const e2 = env();
    ok(await berth(['pull', '--all-platforms', `${server.host}/multi/app:v1`], e2));
    assert.equal((await berth(['digest', `${server.host}/multi/app:v1`], e2)).stdout.trim(), indexDigest);
    assert.equal(blobFiles(e2.BERTH_HOME).length, 1 + 2 * 3, 'index, and manifest + config + layer per platform');
  });

  test('a blob that does not match its digest fails the pull and leaves nothing in the store', async () => {
    const e = env();
    const dir = tempDir();
    const img = await writeLayoutImage(dir, 'x', [{ f: Buffer.alloc(5000, 9) }]);
    ok(await berth(['copy', `oci:${dir}:x`, `${server.host}/corrupt/app:v1`], e));
    const victim = findFile(server.dataDir, img.layers[0]!.digest.slice(7));
    const bytes = readFileSync(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(victim, bytes);
    const pull = await berth(['pull', `${server.host}/corrupt/app:v1`], e);
    assert.equal(pull.code, 6, pull.stderr);
    assert.match(pull.stderr, new RegExp(`${img.layers[0]!.digest}.*failed verification`));
    assert.ok(!existsSync(join(e.BERTH_HOME, 'blobs', 'sha256', img.layers[0]!.digest.slice(7))));
    assert.deepEqual(JSON.parse((await berth(['images', '--json'], e)).stdout), []);
    assert.deepEqual(readdirSync(join(e.BERTH_HOME, 'blobs', '.partial')), [], 'no partial download left behind');
  });

  test('two pulls at once into one store both land in the index', async () => {
    const e = env();
    const [a, b] = await Promise.all([berth(['pull', `${server.host}/lib/app:v1`], e), berth(['pull', `${server.host}/lib/tool:v1`], e)]);
    ok(a);
    ok(b);
    const images = JSON.parse((await berth(['images', '--json'], e)).stdout) as { repository: string }[];
    assert.deepEqual(images.map((i) => i.repository).sort(), [`${server.host}/lib/app`, `${server.host}/lib/tool`]);
    ok(await berth(['store', 'verify'], e));
  });

  test('bad input: exit codes and messages that say what is wrong', async () => {
    const e = env();
    const bad = await berth(['pull', 'Alpine:latest'], e);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /repository name "library\/Alpine" must be lowercase|"Alpine" must be lowercase/);
    const missing = await berth(['pull', `${server.host}/no/such:v1`], e);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /MANIFEST_UNKNOWN|NAME_UNKNOWN/);
    const notLocal = await berth(['push', `${server.host}/never/pulled:v1`], e);
    assert.equal(notLocal.code, 3);
    assert.match(notLocal.stderr, /no image .* in the local store/);
    const ref = await berth(['ref', 'alpine', 'index.docker.io/user/app:1'], e);
    assert.equal(ref.stdout, 'docker.io/library/alpine:latest\ndocker.io/user/app:1\n');
  });
});

function findFile(root: string, name: string): string {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.name === name && entry.isFile()) return join(entry.parentPath, entry.name);
  }
  throw new Error(`${name} not under ${root}`);
}
