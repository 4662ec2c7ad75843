import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { randomBlob, type Blob } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { berth, configFile, onFilesystem, storageEnv, deleteManifest, makeImage, pullAndVerify, pushLikeAClient, sleep, type Image } from './helpers.js';

/**
 * Invariant 2 under fire: GC runs continuously (scheduled inside berth serve
 * and, at the same time, as `berth gc` processes beside it) while 200 images
 * are pushed concurrently. Pushes reuse layers of images deleted a moment
 * earlier, so they meet blobs in every state: linked, unreferenced but
 * young, being swept, and swept. Every acknowledged push must pull intact.
 */
/**
 * After a HEAD the client has 3/4 of the grace to PUT its manifest (see
 * src/meta/gc-queries.ts); 10 s leaves room for a loaded CI machine.
 */
const GRACE_MS = 10_000;
/** 200 on the embedded backends; half on the s3rver + PostgreSQL pass, where every request costs more. */
const IMAGES = Number(process.env.GC_TEST_IMAGES ?? (onFilesystem ? 200 : 100));
const WORKERS = 6;
const OLD = 40;

let server: BerthServer;
let api: Raw;
let config: string;
let env: Record<string, string>;

before(async () => {
  config = configFile(`gc:\n  interval: 300ms\n  grace: ${GRACE_MS}ms\n  deleteUntagged: true\nlog:\n  level: warn\n`);
  server = await startBerth({ args: ['--config', config], env: { BERTH_LOG_LEVEL: 'info' } });
  api = new Raw(server.url);
  env = await storageEnv(server);
});
after(() => server.stop());

const gc = async (): Promise<{ blobsTotal: number }> => {
  const r = await berth(['gc', '--config', config, '--data', server.dataDir, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { blobsTotal: number };
};

test(`${IMAGES} concurrent pushes beside continuous GC: every acknowledged image pulls and verifies`, async (t) => {
  const t0 = Date.now();
  const base = randomBlob(4096, 0.5);
  // Phase 0: images that are deleted, then collected, before their layers are pushed again.
  const old: Image[] = [];
  for (let i = 0; i < OLD; i++) old.push(makeImage(`old/o${i % 4}`, `v${i}`, [base, randomBlob(1024 + i, i / OLD + 0.001)]));
  for (const img of old) await pushLikeAClient(api, img);
  for (const img of old) assert.equal(await deleteManifest(api, img.repo, img.manifest.digest), 202);
  await sleep(GRACE_MS + 500);
  await gc();
  const oldLayer = (i: number): Blob => old[i]!.layers[1]!;
  for (const img of old) {
    const gone = await api.fetch(`/v2/${img.repo}/blobs/${img.layers[1]!.digest}`, { method: 'HEAD' });
    assert.equal(gone.status, 404, 'GC (scheduled or berth gc) collected the deleted images');
  }

  t.diagnostic(`phase 0 done at ${Date.now() - t0} ms`);
  // Phase 1: the pushes, with GC looping in a second process the whole time.
  let pushing = true;
  let sweptDuring = 0;
  const gcLoop = (async () => {
    while (pushing) sweptDuring += (await gc()).blobsTotal;
  })();
  // A failing GC run stops the pushers too; the error surfaces at `await gcLoop`.
  gcLoop.catch(() => (pushing = false));

  const own = Array.from({ length: IMAGES }, (_, k) => randomBlob(512 + (k % 7) * 300, (k + 1) / (IMAGES + 2)));
  const images = Array.from({ length: IMAGES }, (_, k) => {
    // Layers of earlier images in the same repository (some deleted by then) and of the collected old images.
    const reused = [k >= 50 ? own[k - 50]! : oldLayer(k % OLD), k >= 100 ? own[k - 100]! : oldLayer((k + 7) % OLD)];
    return makeImage(`live/r${k % 10}`, `t${k}`, [base, own[k]!, ...new Set(reused)]);
  });
  const deleted = new Set<number>();
  const pushed = new Set<number>();
  const failures: string[] = [];
  let reuploadedAfterGc = 0;
  let slowest = 0;
  let next = 0;
  const worker = async () => {
    for (let k = next++; k < IMAGES && pushing; k = next++) {
      try {
        const started = Date.now();
        const { uploaded } = await pushLikeAClient(api, images[k]!);
        slowest = Math.max(slowest, Date.now() - started);
        pushed.add(k);
        reuploadedAfterGc += uploaded.filter((d) => old.some((o) => o.layers[1]!.digest === d)).length;
      } catch (e) {
        failures.push(`t${k}: ${(e as Error).message}`);
      }
      // Every third image is deleted a little later, leaving its layers to images 50 and 100 places on.
      // (Only once its push was acknowledged: workers overtake each other.)
      const victim = k - 5;
      if (victim >= 0 && victim % 3 === 0 && pushed.has(victim)) {
        const status = await deleteManifest(api, images[victim]!.repo, images[victim]!.manifest.digest);
        if (status === 202) deleted.add(victim);
        else failures.push(`delete t${victim}: ${status}`);
      }
      await sleep(100);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker)).finally(() => (pushing = false));
  t.diagnostic(`phase 1 done at ${Date.now() - t0} ms`);
  await gcLoop;
  await sleep(GRACE_MS + 500);
  await gc();
  t.diagnostic(`final gc done at ${Date.now() - t0} ms`);

  const sweptByServer = server.logs.filter((l) => l.msg === 'garbage collected').reduce((n, l) => n + Number(l.blobsRemoved), 0);
  t.diagnostic(`scheduled GC swept ${sweptByServer} blob(s) in all; berth gc swept ${sweptDuring} blob(s) during the pushes; ${reuploadedAfterGc} collected layer(s) uploaded again; ${deleted.size} image(s) deleted; slowest push ${slowest} ms`);
  assert.deepEqual(failures, [], 'every push was acknowledged');
  assert.ok(reuploadedAfterGc > 0, 'pushes re-uploaded layers GC had collected');
  assert.ok(sweptDuring + sweptByServer > 0, 'GC collected garbage while pushes ran');
  let verified = 0;
  for (const [k, img] of images.entries()) {
    if (deleted.has(k)) continue;
    await pullAndVerify(api, img);
    verified++;
  }
  assert.equal(verified, IMAGES - deleted.size);
  t.diagnostic(`verified at ${Date.now() - t0} ms`);
  const fsck = await berth(['fsck', '--config', config, '--data', server.dataDir], env);
  assert.equal(fsck.code, 0, `fsck after the run: ${fsck.stdout}${fsck.stderr}`);
});
