import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BenchClient, inParallel } from './client.js';
import { headLoad } from './head-load.js';
import { curlPull } from './pull-load.js';
import { childCpuSeconds, round, runWrk, withCpu, wrkScript, type CpuShare } from './measure.js';
import type { BenchServer } from './servers.js';
import { benchDir } from './servers.js';
import { bigBlobs, catalogImage, OCI_MANIFEST, smallImages, umociImage, type SmallImage } from './workload.js';

export interface BenchOptions {
  /** Interleaved rounds of the ceiling scenarios (the median counts). */
  rounds: number;
  blobMiB: number;
  blobs: number;
  pulls: number;
  chunkMiB: number;
  images: number;
  repos: number;
  seconds: number;
  connections: number;
  skopeoLayers: number;
  skopeoLayerMiB: number;
}

export interface Measurement {
  value: number;
  cpu?: CpuShare;
  /** Secondary figures: latency percentiles, error counts, walk times. */
  extra?: Record<string, number>;
}

export interface Scenario {
  id: string;
  title: string;
  unit: string;
  higherIsBetter: boolean;
  /** Berth/Distribution ratio the issue sets (for "lower is better" rows: Distribution/Berth); none for skopeo. */
  target?: number;
  /** Scenarios whose data this one reads. */
  needs: string[];
  /** Also measured against the push ceiling (bench/ceiling-server.ts), in interleaved rounds. */
  ceiling?: boolean;
  run(t: Target): Promise<Measurement>;
}

/** One server with its client and the workload, shared by every scenario in a run. */
export interface Target {
  server: BenchServer;
  client: BenchClient;
  work: Workload;
  catalogPages?: string[];
  /** Which of the interleaved rounds of a ceiling scenario runs: each round pushes blobs no server has seen. */
  round: number;
}

export interface Workload {
  opts: BenchOptions;
  dir: string;
  big: ReturnType<typeof bigBlobs>;
  small: SmallImage[];
  layout?: string;
}

const MiB = 1 << 20;
const WRK_THREADS = 2;
const MANIFEST_ACCEPT = `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json`;

export function prepareWorkload(opts: BenchOptions, withSkopeo: boolean): Workload {
  const dir = benchDir('berth-bench-work-');
  return {
    opts,
    dir,
    // Per round, `blobs` go monolithic, the next `blobs` chunked: every push is of bytes the server has not seen.
    big: bigBlobs(opts.blobs * 2 * opts.rounds, opts.blobMiB * MiB),
    small: smallImages(opts.images, 256 << 10, 16 << 10),
    layout: withSkopeo ? umociImage(dir, opts.skopeoLayers, opts.skopeoLayerMiB * MiB) : undefined,
  };
}

async function throughput(t: Target, count: number, parallel: number, one: (i: number) => Promise<number>): Promise<Measurement> {
  let bytes = 0;
  const m = await withCpu(t.server, 1, async () => ({
    result: await inParallel(count, parallel, async (i) => {
      // Not `bytes += await one(i)`: that reads `bytes` before the await, and parallel tasks would overwrite each other's sums.
      const n = await one(i);
      bytes += n;
    }),
  }));
  return { value: round(bytes / MiB / m.wall, 1), cpu: m.cpu, extra: { seconds: round(m.wall) } };
}

async function wrkScenario(t: Target, name: string, method: 'GET' | 'HEAD', paths: string[], headers: Record<string, string> = {}): Promise<Measurement> {
  const { opts } = t.work;
  const script = wrkScript(t.work.dir, `${name}-${t.server.name}`, method, paths, headers);
  const [host, port] = t.server.host.split(':') as [string, string];
  // wrk hangs on HEAD answers (see head-load.ts): HEAD goes through the raw-socket generator, in this process.
  const load = (seconds: number) =>
    method === 'HEAD'
      ? headLoad(host, Number(port), paths, opts.connections, seconds)
      : runWrk(t.server.origin, script, { threads: WRK_THREADS, connections: opts.connections, seconds });
  // A short unmeasured run first: both servers get warm caches and a JIT that has seen the route.
  await load(1);
  const m = await withCpu(t.server, method === 'HEAD' ? 1 : WRK_THREADS, async () => {
    const r = await load(opts.seconds);
    return { result: r, generatorSeconds: Number.isNaN(r.cpuSeconds) ? undefined : r.cpuSeconds };
  });
  const r = m.result;
  if (r.errors > 0) process.stderr.write(`  ${t.server.name} ${name}: ${r.errors} non-2xx/socket errors\n`);
  return { value: Math.round(r.reqPerSec), cpu: m.cpu, extra: { p50ms: r.p50ms, p99ms: r.p99ms, errors: r.errors, requests: r.requests } };
}

export async function pushSmallImage(c: BenchClient, repo: string, img: SmallImage): Promise<void> {
  for (const b of img.blobs) {
    if (!(await c.blobExists(repo, b.digest))) await c.pushMonolithic(repo, b.digest, b.bytes);
  }
  await c.putManifest(repo, img.tag, img.manifest, OCI_MANIFEST);
}

function timedCommand(cmd: string, args: string[]): Promise<{ seconds: number; cpuSeconds: number }> {
  // Root: a private, empty blob-info cache per run (see docs/CLIENTS), so skopeo never reuses what an earlier copy saw.
  const isRoot = process.getuid?.() === 0;
  const inner = `${isRoot ? 'mkdir -p /var/lib/containers/cache && mount -t tmpfs tmpfs /var/lib/containers/cache && ' : ''}"$@"; code=$?; times; exit $code`;
  const [file, argv] = isRoot ? ['unshare', ['-m', 'sh', '-c', inner, 'sh', cmd, ...args]] : ['sh', ['-c', inner, 'sh', cmd, ...args]];
  const t0 = performance.now();
  return new Promise((res, rej) =>
    execFile(file as string, argv as string[], { encoding: 'utf8', timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`));
      const cpuSeconds = childCpuSeconds(stdout);
      res({ seconds: (performance.now() - t0) / 1000, cpuSeconds });
    }),
  );
}

async function skopeo(t: Target, args: string[]): Promise<Measurement> {
  const s0 = t.server.cpuSeconds();
  const r = await timedCommand('skopeo', ['copy', '-q', ...args]);
  return { value: round(r.seconds), extra: { skopeoCpuSeconds: round(r.cpuSeconds), serverCpuSeconds: round(t.server.cpuSeconds() - s0) } };
}

export function scenarios(): Scenario[] {
  return [
    {
      id: 'push-mono',
      title: 'push blobs, monolithic (POST + PUT), 4 parallel',
      unit: 'MiB/s',
      higherIsBetter: true,
      target: 1.5,
      needs: [],
      ceiling: true,
      run: (t) =>
        throughput(t, t.work.opts.blobs, 4, async (i) => {
          const b = t.work.big.blob(2 * t.round * t.work.opts.blobs + i);
          await t.client.pushMonolithic('bench/big', b.digest, b.bytes);
          return b.bytes.length;
        }),
    },
    {
      id: 'push-chunked',
      title: 'push blobs, chunked PATCHes, 4 parallel',
      unit: 'MiB/s',
      higherIsBetter: true,
      target: 1.5,
      needs: [],
      ceiling: true,
      run: (t) =>
        throughput(t, t.work.opts.blobs, 4, async (i) => {
          const b = t.work.big.blob((2 * t.round + 1) * t.work.opts.blobs + i);
          await t.client.pushChunked('bench/big', b.digest, b.bytes, t.work.opts.chunkMiB * MiB);
          return b.bytes.length;
        }),
    },
    {
      id: 'pull',
      title: 'pull blobs, 4 parallel',
      unit: 'MiB/s',
      higherIsBetter: true,
      target: 1.0,
      needs: ['push-mono'],
      run: async (t) => {
        const paths = Array.from({ length: t.work.opts.pulls }, (_, i) => `/v2/bench/big/blobs/${t.work.big.blob(i % t.work.opts.blobs).digest}`);
        const m = await withCpu(t.server, 4, async () => {
          const r = await curlPull(t.server.origin, paths, 4);
          return { result: r, generatorSeconds: Number.isNaN(r.cpuSeconds) ? undefined : r.cpuSeconds };
        });
        return { value: round(m.result.bytes / MiB / m.wall, 1), cpu: m.cpu, extra: { seconds: round(m.wall) } };
      },
    },
    {
      id: 'small-images',
      title: 'push small images (HEAD, upload missing, manifest), 16 parallel',
      unit: 'images/s',
      higherIsBetter: true,
      target: 3,
      needs: [],
      run: async (t) => {
        const m = await withCpu(t.server, 1, async () => ({
          result: await inParallel(t.work.small.length, 16, (i) => pushSmallImage(t.client, 'bench/small', t.work.small[i]!)),
        }));
        return { value: round(t.work.small.length / m.wall, 1), cpu: m.cpu, extra: { seconds: round(m.wall) } };
      },
    },
    {
      id: 'manifest-get',
      title: 'GET manifest by tag',
      unit: 'req/s',
      higherIsBetter: true,
      target: 5,
      needs: ['small-images'],
      run: (t) => wrkScenario(t, 'manifest-get', 'GET', t.work.small.map((i) => `/v2/bench/small/manifests/${i.tag}`), { Accept: MANIFEST_ACCEPT }),
    },
    {
      id: 'blob-head',
      title: 'HEAD blob',
      unit: 'req/s',
      higherIsBetter: true,
      target: 5,
      needs: ['small-images'],
      run: (t) => wrkScenario(t, 'blob-head', 'HEAD', t.work.small.slice(0, 100).map((i) => `/v2/bench/small/blobs/${i.blobs[1]!.digest}`)),
    },
    {
      id: 'tags-list',
      title: 'GET tags/list',
      unit: 'req/s',
      higherIsBetter: true,
      target: 5,
      needs: ['small-images'],
      run: (t) => wrkScenario(t, 'tags-list', 'GET', ['/v2/bench/small/tags/list']),
    },
    {
      id: 'catalog-walk',
      title: '_catalog walk, n=100',
      unit: 'walks/s',
      higherIsBetter: true,
      target: 10,
      needs: [],
      run: async (t) => {
        const { config, manifest } = catalogImage();
        await inParallel(t.work.opts.repos, 16, async (i) => {
          const repo = `cat/r${String(i).padStart(4, '0')}`;
          await t.client.pushMonolithic(repo, config.digest, config.bytes);
          await t.client.putManifest(repo, 'v1', manifest, OCI_MANIFEST);
        });
        const { pages, repositories } = await t.client.catalogPages(100);
        const walk = async () => {
          const t0 = performance.now();
          await t.client.catalogPages(100);
          return performance.now() - t0;
        };
        const walks: number[] = [];
        for (let i = 0; i < 20; i++) walks.push(await walk());
        walks.sort((a, b) => a - b);
        const m = await wrkScenario(t, 'catalog', 'GET', pages);
        const perWalk = m.value / pages.length;
        return { value: round(perWalk, 1), cpu: m.cpu, extra: { ...m.extra, pages: pages.length, repositories, reqPerSec: m.value, sequentialWalkMs: round(walks[10]!) } };
      },
    },
    {
      id: 'skopeo-in',
      title: 'skopeo copy oci: -> registry (5 layers)',
      unit: 's',
      higherIsBetter: false,
      needs: [],
      run: (t) => skopeo(t, ['--dest-tls-verify=false', `oci:${t.work.layout}:v1`, `docker://${t.server.host}/bench/skopeo:v1`]),
    },
    {
      id: 'skopeo-out',
      title: 'skopeo copy registry -> oci:',
      unit: 's',
      higherIsBetter: false,
      needs: ['skopeo-in'],
      run: (t) => skopeo(t, ['--src-tls-verify=false', `docker://${t.server.host}/bench/skopeo:v1`, `oci:${join(benchDir('berth-bench-out-'), 'out')}:v1`]),
    },
  ];
}
