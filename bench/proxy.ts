import { randomBytes } from 'node:crypto';
import { BenchClient, sha256 } from './client.js';
import { round } from './measure.js';
import { Link } from './link.js';
import { curlPull } from './pull-load.js';
import { startBerth, type BenchServer } from './servers.js';

/** Rounds; each pulls every case once, in an order that alternates, and the median round's figure counts (load only ever adds time). */
const RUNS = 5;
const PARALLEL = 4;
const NAMESPACE = 'bench.io';
/** The same upstream behind a link of this many MB a second (800 Mbit/s: a well-connected CI runner's road to Docker Hub). */
const LINK_MB = 100;
const LINK_NAMESPACE = 'link.io';

/** One pull's cost: wall seconds, and CPU seconds of the servers that served it (the cache, and the upstream when it was asked), which a loaded machine inflates far less. */
export interface PullCost {
  wall: number;
  cpu: number;
  /** The CPU seconds of each serving server, in the order they were named. */
  cpuEach: number[];
}

export interface ProxyBenchResult {
  layers: number;
  layerMiB: number;
  runs: number;
  /** One whole pull (manifest, then every blob through curl), median of RUNS. */
  coldDirect: PullCost;
  coldViaCache: PullCost;
  /** The same two pulls with the upstream behind a link of `linkMB` MB/s. */
  linkMB: number;
  coldDirectLink: PullCost;
  coldViaCacheLink: PullCost;
  warmViaCache: PullCost;
  local: PullCost;
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
export async function proxyBench(layers: number, layerMiB: number, profileDir?: string): Promise<ProxyBenchResult> {
  const upstream = await startBerth(profileDir);
  const link = await Link.start(upstream.origin, LINK_MB * 1e6);
  const cache = await startBerth(
    profileDir,
    undefined,
    `proxy:\n  upstreams:\n    - { namespace: ${NAMESPACE}, url: "${upstream.origin}", tagTtl: 1h }\n    - { namespace: ${LINK_NAMESPACE}, url: "${link.origin}", tagTtl: 1h }\n`,
  );
  const up = new BenchClient(upstream.origin);
  const local = new BenchClient(cache.origin);
  try {
    const costs = { coldDirect: [] as PullCost[], coldViaCache: [] as PullCost[], coldDirectLink: [] as PullCost[], coldViaCacheLink: [] as PullCost[], warmViaCache: [] as PullCost[], local: [] as PullCost[] };
    const pulls = (run: number) => ({
      coldDirect: () => timedPull(upstream.origin, [upstream], `proxy/cold-${run}`),
      coldViaCache: () => timedPull(cache.origin, [cache, upstream], `${NAMESPACE}/proxy/cold-${run}`),
      coldDirectLink: () => timedPull(link.origin, [upstream], `proxy/link-${run}`),
      coldViaCacheLink: () => timedPull(cache.origin, [cache, upstream], `${LINK_NAMESPACE}/proxy/link-${run}`),
      // Within the tag TTL nothing goes upstream (the tests count it): the upstream's idle timers are not the warm pull's cost.
      warmViaCache: () => timedPull(cache.origin, [cache], `${NAMESPACE}/proxy/cold-${run}`),
      local: () => timedPull(cache.origin, [cache], `local/copy-${run}`),
    });
    for (let run = 0; run < RUNS; run++) {
      const image = makeImage(layers, layerMiB);
      await push(up, `proxy/cold-${run}`, image);
      await push(up, `proxy/link-${run}`, makeImage(layers, layerMiB));
      const p = pulls(run);
      // Who goes first alternates, so neither always meets a warmer page cache; the warm pull needs the cold one before it.
      for (const which of run % 2 === 0 ? (['coldDirect', 'coldViaCache'] as const) : (['coldViaCache', 'coldDirect'] as const)) costs[which].push(await p[which]());
      for (const which of run % 2 === 0 ? (['coldDirectLink', 'coldViaCacheLink'] as const) : (['coldViaCacheLink', 'coldDirectLink'] as const)) costs[which].push(await p[which]());
      // Only now: a cache that holds the blobs in a repository the client may read takes them from there, and the cold pull would fetch nothing.
      await push(local, `local/copy-${run}`, image);
      for (const which of run % 2 === 0 ? (['local', 'warmViaCache'] as const) : (['warmViaCache', 'local'] as const)) costs[which].push(await p[which]());
    }
    const rssMiB = cache.peakRssMiB();
    const bigLayerMiB = layerMiB * 4;
    await push(up, 'proxy/big', makeImage(1, bigLayerMiB));
    await timedPull(cache.origin, [cache], `${NAMESPACE}/proxy/big`);
    return {
      layers,
      layerMiB,
      runs: RUNS,
      coldDirect: median(costs.coldDirect),
      coldViaCache: median(costs.coldViaCache),
      linkMB: LINK_MB,
      coldDirectLink: median(costs.coldDirectLink),
      coldViaCacheLink: median(costs.coldViaCacheLink),
      warmViaCache: median(costs.warmViaCache),
      local: median(costs.local),
      rssMiB: round(rssMiB, 1),
      bigLayerMiB,
      rssAfterBigMiB: round(cache.peakRssMiB(), 1),
    };
  } finally {
    await Promise.all([up.close(), local.close()]);
    await Promise.all([cache.stop(), upstream.stop(), link.close()]);
  }
}

/** The targets: a warm pull at least 0.9x as fast as a local one, a cold one at most 10% slower than direct. */
export function formatProxyBench(r: ProxyBenchResult): string {
  const cost = (c: PullCost) => `${c.wall} s (${c.cpu} CPU-s)`;
  const perGiB = (cpu: number) => round((cpu * 1024) / (r.layers * r.layerMiB), 2);
  const ratio = (a: PullCost, b: PullCost) => `${round(a.wall / b.wall, 2)}x wall, ${round(a.cpu / b.cpu, 2)}x CPU`;
  return [
    `pull-through cache, an image of ${r.layers} x ${r.layerMiB} MiB layers (median of ${r.runs} alternating rounds, ${PARALLEL} curl streams; CPU-s: the serving berths' own):`,
    `  warm pull via the cache ${cost(r.warmViaCache)}, local pull ${cost(r.local)}: ${round(r.local.wall / r.warmViaCache.wall, 2)}x as fast (target >= 0.9x); ${ratio(r.warmViaCache, r.local)}`,
    `  cold pull via the cache ${cost(r.coldViaCache)}, upstream directly ${cost(r.coldDirect)}: ${ratio(r.coldViaCache, r.coldDirect)} (target <= 1.1x wall)`,
    `  over a ${r.linkMB} MB/s link to the upstream: cold pull via the cache ${cost(r.coldViaCacheLink)}, upstream directly ${cost(r.coldDirectLink)}: ${ratio(r.coldViaCacheLink, r.coldDirectLink)} (target <= 1.1x wall)`,
    `  CPU-s per GiB pulled cold: the cache ${perGiB(r.coldViaCache.cpuEach[0]!)}, the upstream serving it ${perGiB(r.coldViaCache.cpuEach[1]!)}; the upstream serving curl directly ${perGiB(r.coldDirect.cpuEach[0]!)}`,
    `  cache peak RSS ${r.rssMiB} MiB; after a cold pull of one ${r.bigLayerMiB} MiB layer ${r.rssAfterBigMiB} MiB (flat with layer size)`,
  ].join('\n');
}

/** Of each figure separately: the median round's wall time and the median CPU times. */
function median(costs: PullCost[]): PullCost {
  const mid = (xs: number[]) => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!, 3);
  return { wall: mid(costs.map((c) => c.wall)), cpu: mid(costs.map((c) => c.cpu)), cpuEach: costs[0]!.cpuEach.map((_, i) => mid(costs.map((c) => c.cpuEach[i]!))) };
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

/** A pull as a client makes it from `origin`: the manifest by tag, then its blobs, PARALLEL at a time; `serving` are the servers whose CPU it costs. */
async function timedPull(origin: string, serving: BenchServer[], repo: string): Promise<PullCost> {
  const cpu0 = serving.map((s) => s.cpuSeconds());
  const t0 = performance.now();
  const res = await fetch(`${origin}/v2/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 200) throw new Error(`manifest ${repo}:v1 from ${origin}: HTTP ${res.status} ${await res.text()}`);
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  await curlPull(origin, [m.config, ...m.layers].map((d) => `/v2/${repo}/blobs/${d.digest}`), PARALLEL);
  const wall = (performance.now() - t0) / 1000;
  const cpuEach = serving.map((s, i) => s.cpuSeconds() - cpu0[i]!);
  return { wall, cpu: cpuEach.reduce((a, b) => a + b, 0), cpuEach };
}
