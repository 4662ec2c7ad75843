import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { writeLayoutImage } from '../helpers/layout-image.js';

const BIG = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
let server: BerthServer;
let dirs: string[] = [];
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const dir = (p: string) => {
  const d = tempDir(p);
  dirs.push(d);
  return d;
};

/** An OCI layout with one 1 GiB layer, written in 1 MiB pieces (the test must not hold it either). */
function bigLayout(): string {
  const d = dir('berth-big-src-');
  mkdirSync(join(d, 'blobs', 'sha256'), { recursive: true });
  const tmp = join(d, 'layer.tmp');
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  for (let i = 0; i < BIG / MiB; i++) {
    const piece = randomBytes(MiB);
    hash.update(piece);
    writeSync(fd, piece);
  }
  closeSync(fd);
  const digest = `sha256:${hash.digest('hex')}`;
  renameSync(tmp, join(d, 'blobs', 'sha256', digest.slice(7)));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } }));
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  writeFileSync(join(d, 'blobs', 'sha256', configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: BIG }],
    }),
  );
  const md = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  writeFileSync(join(d, 'blobs', 'sha256', md.slice(7)), manifest);
  writeFileSync(join(d, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(d, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'big' } }] }));
  return d;
}

before(async () => {
  server = await startBerth({ dataDir: dir('berth-big-reg-') });
});
after(async () => {
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a 1 GiB blob streams through push and pull with flat client memory', async (t) => {
  const env = { BERTH_HOME: dir('berth-big-home-'), DOCKER_CONFIG: dir('berth-big-dc-') };
  const small = dir('berth-small-src-');
  await writeLayoutImage(small, 'small', [{ f: 'x' }]);
  ok(await berth(['copy', `oci:${small}:small`, `${server.host}/mem/small:v1`], env));
  const baseline = await berth(['pull', `${server.host}/mem/small:v1`], env, { measure: true });
  ok(baseline);

  const src = bigLayout();
  const push = await berth(['copy', `oci:${src}:big`, `${server.host}/mem/big:v1`], env, { measure: true });
  ok(push);
  rmSync(src, { recursive: true, force: true });
  const pull = await berth(['pull', `${server.host}/mem/big:v1`], env, { measure: true });
  ok(pull);
  assert.match(pull.stdout, /Downloading 1\.07GB\/1\.07GB/);

  const mib = (n: number | undefined) => `${((n ?? 0) / MiB).toFixed(0)} MiB`;
  t.diagnostic(`VmHWM: small pull ${mib(baseline.peakRss)}, 1 GiB push ${mib(push.peakRss)}, 1 GiB pull ${mib(pull.peakRss)}`);
  assert.ok(baseline.peakRss! > 0 && pull.peakRss! > 0, 'memory was measured');
  // Flat: the big transfers cost at most a few chunks over the baseline, nowhere near the blob's size.
  assert.ok(pull.peakRss! - baseline.peakRss! < 64 * MiB, `pull grew by ${mib(pull.peakRss! - baseline.peakRss!)}`);
  assert.ok(push.peakRss! - baseline.peakRss! < 128 * MiB, `push grew by ${mib(push.peakRss! - baseline.peakRss!)}`);
  ok(await berth(['store', 'verify'], env));
});
