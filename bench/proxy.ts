import { randomBytes } from 'node:crypto';
import { BenchClient, sha256 } from './client.js';
import { round } from './measure.js';
import { curlPull } from './pull-load.js';
import { startBerth, type BenchServer } from './servers.js';

/** Repetitions of each pull; the best is reported (the machine is shared, noise only ever adds time). */
const RUNS = 3;
const PARALLEL = 4;
const NAMESPACE = 'bench.io';

export interface ProxyBenchResult {
  layers: number;
  layerMiB: number;
  /** Seconds for one whole pull (manifest, then every blob through curl), best of RUNS. */
  coldDirect: number;
  coldViaCache: number;
  warmViaCache: number;
  local: number;
  /** The cache's peak RSS after the cold pulls, and after one more of a layer `bigLayerMiB` large. */
  rssMiB: number;
  bigLayerMiB: number;
  rssAfterBigMiB: number;
}

interface Image {
  manifest: Buffer;
  blobs: { digest: string; bytes: Buffer }[];
}

/**
 * The pull-through cache against the registry behind it, both `berth serve`
 * on loopback: a cold pull through the cache (every byte fetched from the
 * upstream, verified and stored while it streams on) against pulling the
 * upstream directly, and a warm pull of the cached image against a pull of
 * the same image pushed to the cache as a local repository. Each cold run
 * pulls an image of its own, so nothing is cached before it starts.
 */
export async function proxyBench(layers: number, layerMiB: number): Promise<ProxyBenchResult> {
  const upstream = await startBerth();
  const cache = await startBerth(undefined, undefined, `proxy:\n  upstreams:\n    - { namespace: ${NAMESPACE}, url: "${upstream.origin}", tagTtl: 1h }\n`);
  const up = new BenchClient(upstream.origin);
  const local = new BenchClient(cache.origin);
  try {
    const times = { coldDirect: [] as number[], coldViaCache: [] as number[], warmViaCache: [] as number[], local: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      const repo = `proxy/cold-${run}`;
      const image = makeImage(layers, layerMiB);
      await push(up, repo, image);
      await push(local, `local/copy-${run}`, image);
      // Who goes first alternates, so neither always meets a warmer page cache.
      const order = run % 2 === 0 ? (['coldDirect', 'coldViaCache'] as const) : (['coldViaCache', 'coldDirect'] as const);
      for (const which of order) times[which].push(which === 'coldDirect' ? await timedPull(upstream, repo) : await timedPull(cache, `${NAMESPACE}/${repo}`));
      const warmFirst = run % 2 === 1;
      if (!warmFirst) times.local.push(await timedPull(cache, `local/copy-${run}`));
      times.warmViaCache.push(await timedPull(cache, `${NAMESPACE}/${repo}`));
      if (warmFirst) times.local.push(await timedPull(cache, `local/copy-${run}`));
    }
    const rssMiB = cache.peakRssMiB();
    const bigLayerMiB = layerMiB * 4;
    const big = makeImage(1, bigLayerMiB);
    await push(up, 'proxy/big', big);
    await timedPull(cache, `${NAMESPACE}/proxy/big`);
    const best = (xs: number[]) => round(Math.min(...xs), 3);
    return {
      layers,
      layerMiB,
      coldDirect: best(times.coldDirect),
      coldViaCache: best(times.coldViaCache),
      warmViaCache: best(times.warmViaCache),
      local: best(times.local),
      rssMiB: round(rssMiB, 1),
      bigLayerMiB,
      rssAfterBigMiB: round(cache.peakRssMiB(), 1),
    };
  } finally {
    await Promise.all([up.close(), local.close()]);
    await Promise.all([cache.stop(), upstream.stop()]);
  }
}

/** The targets: a warm pull at least 0.9x as fast as a local one, a cold one at most 10% slower than direct. */
export function formatProxyBench(r: ProxyBenchResult): string {
  const warm = round(r.local / r.warmViaCache, 2);
  const cold = round(r.coldViaCache / r.coldDirect, 2);
  return [
    `pull-through cache, an image of ${r.layers} x ${r.layerMiB} MiB layers (best of ${RUNS}, ${PARALLEL} curl streams):`,
    `  warm pull via the cache ${r.warmViaCache} s, local pull ${r.local} s: ${warm}x as fast (target >= 0.9x)`,
    `  cold pull via the cache ${r.coldViaCache} s, upstream directly ${r.coldDirect} s: ${cold}x the time (target <= 1.1x)`,
    `  cache peak RSS ${r.rssMiB} MiB; after a cold pull of one ${r.bigLayerMiB} MiB layer ${r.rssAfterBigMiB} MiB (flat with layer size)`,
  ].join('\n');
}

function makeImage(layers: number, layerMiB: number): Image {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const blobs = [config, ...Array.from({ length: layers }, () => randomBytes(layerMiB << 20))].map((bytes) => ({ digest: sha256(bytes), bytes }));
  const descriptor = (b: { digest: string; bytes: Buffer }, mediaType: string) => ({ mediaType, digest: b.digest, size: b.bytes.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: descriptor(blobs[0]!, 'application/vnd.oci.image.config.v1+json'),
      layers: blobs.slice(1).map((b) => descriptor(b, 'application/vnd.oci.image.layer.v1.tar')),
    }),
  );
  return { manifest, blobs };
}

async function push(client: BenchClient, repo: string, image: Image): Promise<void> {
  for (const b of image.blobs) await client.pushMonolithic(repo, b.digest, b.bytes);
  await client.putManifest(repo, 'v1', image.manifest, 'application/vnd.oci.image.manifest.v1+json');
}

/** A pull as a client makes it: the manifest by tag, then its blobs, PARALLEL at a time. */
async function timedPull(server: BenchServer, repo: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${server.origin}/v2/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 200) throw new Error(`manifest ${repo}:v1 from ${server.origin}: HTTP ${res.status} ${await res.text()}`);
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  await curlPull(server.origin, [m.config, ...m.layers].map((d) => `/v2/${repo}/blobs/${d.digest}`), PARALLEL);
  return (performance.now() - t0) / 1000;
}
