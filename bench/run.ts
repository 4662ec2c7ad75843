import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, setPriority, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchClient } from './client.js';
import { round } from './measure.js';
import { formatTable, type Row } from './report.js';
import { scenarios, prepareWorkload, type BenchOptions, type Measurement, type Scenario, type Target } from './scenarios.js';
import { ensureTools, startBerth, startBerthRgwPg, startBerthS3pg, startBerthWith, startCeiling, startDistribution, type BenchServer, type ServerName } from './servers.js';
import { formatProxyBench, proxyBench } from './proxy.js';
import { formatMetricsCost, metricsCost, type MetricsCost } from './metrics-cost.js';
import { scanBench } from './scan.js';
import { scaleBench, scaleChartsFrom } from './scale/run.js';
import { chooseSizes } from './scale/sizes.js';
import { RGW_TOOLS } from '../test/helpers/rgw.js';

/** The scenarios `--workers-rows` measures on `berth serve --workers 2`: the reads, and the pushes whose data they read. */
const WORKER_SCENARIOS = ['push-mono', 'small-images', 'pull', 'manifest-get', 'blob-head', 'tags-list'];
/** Request-rate scenarios that also get a row of requests per server CPU-second. */
const PER_CPU_SCENARIOS = ['manifest-get', 'blob-head', 'tags-list'];

const USAGE = `npm run bench -- [--quick] [--only id,id] [--profile DIR] [--no-s3pg] [--rgw] [--workers-rows] [size options]
       npm run bench -- --scale [--scale-sizes small,medium,large] [--scale-keep]
       npm run bench -- --scale-charts RESULTS.json,...
  --quick               smoke run (about a minute): small blobs, short wrk runs
  --no-s3pg             skip the third column, Berth on S3 (s3rver) + PostgreSQL
  --rgw                 add a column: Berth on Ceph RADOS Gateway (a one-OSD cluster on loopback) + PostgreSQL
  --workers-rows        a column for berth serve --workers 2 on ${WORKER_SCENARIOS.join(', ')} (and what they need),
                        and rows of requests per server CPU-second (every process of the server counted)
  --scale               how cost grows with the registry (docs/BENCHMARKS.md): seeded registries of each size,
                        single requests, GC, usage and fsck; charts in docs/bench/
  --scale-sizes NAMES   the sizes to seed: small (1k repositories, 10k blobs), medium (10x), large (100x); all by default
  --scale-keep          keep the seeded data directories (their paths are printed)
  --scale-charts FILES  draw docs/bench/scale-*.svg again from recorded scale runs (bench/results/scale-*.json), their sizes together
  --only IDS            run these scenarios (and what they need): ${scenarios().map((s) => s.id).join(', ')}, scan, proxy, metrics-cost
                        (metrics-cost: manifest GET and HEAD blob against Berth with metrics on and off)
  --advisories N        advisories in the scan scenario's database (200000)   --packages N   packages in its image (500)
  --profile DIR         run Berth under node --cpu-prof, profiles written to DIR
  --blob-mib N          blob size for push/pull (64)      --blobs N   blobs per push scenario (8)
  --rounds N            interleaved rounds of the pushes measured against the ceiling server (3; median)
  --pulls N             blob pulls (32)                   --chunk-mib N   PATCH size (8)
  --images N            small images (200)                --repos N   catalog repositories (500)
  --seconds N           wrk duration per server (10)      --connections N   wrk connections (32)
  --skopeo-layer-mib N  size of each of the 5 skopeo layers (8)`;

const FULL: BenchOptions = { rounds: 3, blobMiB: 64, blobs: 8, pulls: 32, chunkMiB: 8, images: 200, repos: 500, seconds: 10, connections: 32, skopeoLayers: 5, skopeoLayerMiB: 8 };
const QUICK: BenchOptions = { rounds: 1, blobMiB: 8, blobs: 4, pulls: 8, chunkMiB: 2, images: 40, repos: 150, seconds: 2, connections: 32, skopeoLayers: 5, skopeoLayerMiB: 1 };

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'scale-sizes': { type: 'string' },
      'scale-keep': { type: 'boolean', default: false },
      'scale-charts': { type: 'string' },
      'workers-rows': { type: 'boolean', default: false },
      'no-s3pg': { type: 'boolean', default: false },
      rgw: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
      'blob-mib': { type: 'string' },
      blobs: { type: 'string' },
      rounds: { type: 'string' },
      pulls: { type: 'string' },
      'chunk-mib': { type: 'string' },
      images: { type: 'string' },
      repos: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'skopeo-layer-mib': { type: 'string' },
      advisories: { type: 'string' },
      packages: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const opts = { ...(values.quick ? QUICK : FULL) };
  const num = (key: string, field: keyof BenchOptions) => {
    const v = (values as Record<string, unknown>)[key];
    if (typeof v !== 'string') return;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${key} wants a positive integer, got "${v}"`);
    opts[field] = n;
  };
  num('blob-mib', 'blobMiB');
  num('blobs', 'blobs');
  num('rounds', 'rounds');
  num('pulls', 'pulls');
  num('chunk-mib', 'chunkMiB');
  num('images', 'images');
  num('repos', 'repos');
  num('seconds', 'seconds');
  num('connections', 'connections');
  num('skopeo-layer-mib', 'skopeoLayerMiB');
  const only = values.only?.split(',').filter(Boolean);
  const scan = !only || only.includes('scan') ? { advisories: Number(values.advisories ?? 200_000), packages: Number(values.packages ?? 500) } : undefined;
  const proxy = !only || only.includes('proxy');
  const servers = only?.filter((id) => id !== 'scan' && id !== 'proxy');
  const scale = values.scale ? { sizes: chooseSizes(values['scale-sizes']), keep: values['scale-keep'] } : undefined;
  const scaleCharts = values['scale-charts']?.split(',').filter(Boolean);
  return { opts, quick: values.quick, scale, scaleCharts, workersRows: values['workers-rows'], s3pg: !values['no-s3pg'], rgw: values.rgw, only: servers, serverScenarios: !servers || servers.length > 0, scan, proxy, profile: values.profile ? resolve(values.profile) : undefined };
}

/** The chosen scenarios plus the ones whose data they read, in the canonical order. */
function selected(only: string[] | undefined) {
  const all = scenarios();
  if (!only) return all;
  only = only.filter((id) => id !== METRICS_COST);
  const unknown = only.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.id).join(', ')}`);
  const want = new Set<string>();
  const add = (id: string) => {
    if (want.has(id)) return;
    want.add(id);
    all.find((s) => s.id === id)!.needs.forEach(add);
  };
  only.forEach(add);
  return all.filter((s) => want.has(s.id));
}

function machine() {
  const version = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    kernel: release(),
    node: process.version,
    distribution: version,
  };
}

const PRIORITY = -10;
const METRICS_COST = 'metrics-cost';

/**
 * The machine may be shared (test suites running beside the bench): as root,
 * this process takes nice -10 before it spawns anything, so both servers and
 * every generator inherit it (all their threads too) and the comparison
 * measures the registries rather than the neighbours.
 */
function raisePriority(): boolean {
  if (process.getuid?.() !== 0) return false;
  setPriority(PRIORITY);
  return true;
}

async function main(): Promise<void> {
  const { opts, quick, scale, scaleCharts, workersRows, s3pg, rgw, only, serverScenarios, scan, proxy, profile } = options();
  if (scaleCharts) return scaleChartsFrom(scaleCharts);
  if (scale) {
    ensureTools({ '/usr/bin/time': 'time' });
    await scaleBench(scale.sizes, { keep: scale.keep, machine: machine(), priority: raisePriority() ? PRIORITY : 0 });
    return;
  }
  if (!serverScenarios) {
    if (proxy) await runProxyBench(opts, profile);
    if (scan) await runScanBench(scan);
    return;
  }
  ensureTools({ 'docker-registry': 'docker-registry', wrk: 'wrk', curl: 'curl', skopeo: 'skopeo', umoci: 'umoci', ...(s3pg || rgw ? { pg_ctlcluster: 'postgresql' } : {}), ...(rgw ? RGW_TOOLS : {}) });
  const chosen = selected(only);
  const niced = raisePriority();
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  process.stderr.write(`preparing workload (${opts.blobs * 2 * opts.rounds} x ${opts.blobMiB} MiB blobs, ${opts.images} small images)...\n`);
  const work = prepareWorkload(opts, chosen.some((s) => s.id.startsWith('skopeo')));
  if (profile) mkdirSync(profile, { recursive: true });

  const withCost = !only || only.includes(METRICS_COST);
  // The workers column runs only its scenarios and what their data needs.
  const forWorkers = new Set(workersRows ? selected(WORKER_SCENARIOS.filter((id) => chosen.some((s) => s.id === id))).map((s) => s.id) : []);
  const servers: BenchServer[] = chosen.length
    ? [
        await startDistribution(),
        await startBerth(profile),
        ...(s3pg ? [await startBerthS3pg()] : []),
        ...(rgw ? [await startBerthRgwPg()] : []),
        ...(forWorkers.size ? [await startBerthWith('Berth 2 workers', ['--workers', '2'])] : []),
      ]
    : [];
  if (chosen.some((s) => s.ceiling)) servers.push(await startCeiling());
  const targets: Target[] = servers.map((server) => ({ server, client: new BenchClient(server.origin), work, round: 0 }));
  const rows: Row[] = [];
  try {
    for (const [k, s] of chosen.entries()) {
      const eligible = targets.filter((t) => t.server.name !== 'Berth 2 workers' || forWorkers.has(s.id));
      const results = await measureScenario(s, k, eligible, s.ceiling ? opts.rounds : 1);
      rows.push({
        scenario: s,
        distribution: results.Distribution!,
        berth: results.Berth!,
        s3pg: results['Berth S3+PG'],
        rgwpg: results['Berth RGW+PG'],
        ceiling: results.Ceiling,
        workers: WORKER_SCENARIOS.includes(s.id) ? results['Berth 2 workers'] : undefined,
      });
    }
    rows.push(...rows.filter((r) => PER_CPU_SCENARIOS.includes(r.scenario.id)).map(perCpuSecond));
    const rss = Object.fromEntries(servers.map((s) => [s.name, round(s.peakRssMiB(), 1)])) as Record<BenchServer['name'], number>;
    if (chosen.length) rows.push({
      scenario: { id: 'peak-rss', title: 'server peak RSS (VmHWM), whole run', unit: 'MiB', higherIsBetter: false, needs: [], run: async () => ({ value: 0 }) },
      distribution: { value: rss.Distribution },
      berth: { value: rss.Berth },
      s3pg: s3pg ? { value: rss['Berth S3+PG'] } : undefined,
      rgwpg: rgw ? { value: rss['Berth RGW+PG'] } : undefined,
      workers: forWorkers.size ? { value: rss['Berth 2 workers'] } : undefined,
      absoluteLimit: 150,
    });
  } finally {
    await Promise.all(targets.map((t) => t.client.close()));
    await Promise.all(servers.map((s) => s.stop()));
    if (!withCost) rmSync(work.dir, { recursive: true, force: true });
  }

  let cost: MetricsCost[] | undefined;
  if (withCost) {
    try {
      cost = await metricsCost(work, scenarios());
    } finally {
      rmSync(work.dir, { recursive: true, force: true });
    }
  }
  if (rows.length) process.stdout.write('\n' + formatTable(rows) + '\n');
  if (cost) process.stdout.write('\n' + formatMetricsCost(cost) + '\n');
  const report = {
    date: started.toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    quick,
    priority: niced ? PRIORITY : 0,
    // Other work on the machine during the run (1-minute load average at start and end).
    loadAverage: { start: round(loadBefore), end: round(loadavg()[0]!) },
    machine: machine(),
    options: opts,
    scenarios: rows.map((r) => ({
      id: r.scenario.id,
      title: r.scenario.title,
      unit: r.scenario.unit,
      higherIsBetter: r.scenario.higherIsBetter,
      target: r.scenario.target,
      distribution: r.distribution,
      berth: r.berth,
      berthS3pg: r.s3pg,
      berthRgwPg: r.rgwpg,
      ceiling: r.ceiling,
      berthWorkers: r.workers,
    })),
    metricsCost: cost,
  };
  const dir = resolve(import.meta.dirname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nload average ${report.loadAverage.start} at start, ${report.loadAverage.end} at end (${report.machine.cores} cores); written ${file}\n`);
  if (profile) process.stdout.write(`Berth CPU profile in ${profile} (summarise: node dist/bench/profile-top.js ${profile}/*.cpuprofile)\n`);
  if (proxy) await runProxyBench(opts, profile);
  if (scan) await runScanBench(scan);
}

/**
 * Requests per second of server CPU (user + system of every process of the
 * server): what a core buys, whatever else the machine was doing.
 */
function perCpuSecond(r: Row): Row {
  const per = (m: Measurement | undefined): Measurement | undefined => (m?.cpu ? { value: Math.round(m.value / m.cpu.server) } : undefined);
  return {
    scenario: { ...r.scenario, id: `${r.scenario.id}-per-cpu`, title: `${r.scenario.title}, per server CPU-second`, unit: 'req/CPU-s', target: undefined },
    distribution: per(r.distribution)!,
    berth: per(r.berth)!,
    s3pg: per(r.s3pg),
    rgwpg: per(r.rgwpg),
    workers: per(r.workers),
  };
}

/**
 * Runs one scenario against every target it applies to (the ceiling server
 * only takes pushes), `rounds` times, rotating who goes first from one round
 * (and one scenario) to the next, so no server always runs on a cooler
 * machine or a warmer page cache; a server's median round counts.
 */
async function measureScenario(s: Scenario, k: number, all: Target[], rounds: number): Promise<Partial<Record<ServerName, Measurement>>> {
  const targets = all.filter((t) => s.ceiling || t.server.name !== 'Ceiling');
  const runs = new Map<ServerName, Measurement[]>();
  for (let round = 0; round < rounds; round++) {
    const first = (k + round) % targets.length;
    for (const t of [...targets.slice(first), ...targets.slice(0, first)]) {
      process.stderr.write(`${s.id}${rounds > 1 ? ` round ${round + 1}/${rounds}` : ''}: ${t.server.name}...\n`);
      const m = await s.run({ ...t, round });
      runs.set(t.server.name, [...(runs.get(t.server.name) ?? []), m]);
    }
  }
  return Object.fromEntries([...runs].map(([name, ms]) => [name, median(ms)]));
}

function median(ms: Measurement[]): Measurement {
  const sorted = [...ms].sort((a, b) => a.value - b.value);
  const mid = sorted[Math.floor(sorted.length / 2)]!;
  return ms.length === 1 ? mid : { ...mid, extra: { ...mid.extra, rounds: ms.length, min: sorted[0]!.value, max: sorted.at(-1)!.value } };
}

/** The pull-through cache against its own upstream: two berths, no Distribution column. */
async function runProxyBench(opts: BenchOptions, profile: string | undefined): Promise<void> {
  process.stderr.write(`proxy: 4 x ${opts.blobMiB} MiB layers through a pull-through cache...\n`);
  process.stdout.write(`\n${formatProxyBench(await proxyBench(4, opts.blobMiB, profile))}\n`);
  if (profile) process.stdout.write(`CPU profiles of the upstream and the cache in ${profile} (summarise: node dist/bench/profile-top.js ${profile}/*.cpuprofile)\n`);
}

/** The client-side scan has no server to compare against: its own line, against the issue's 2 s. */
async function runScanBench(size: { advisories: number; packages: number }): Promise<void> {
  process.stderr.write(`scan: building a database of ${size.advisories} advisories and an image of ${size.packages} packages...\n`);
  const r = await scanBench(size.advisories, size.packages);
  const best = Math.min(...r.scanSeconds);
  process.stdout.write(`\nberth scan, ${r.packages} packages against ${r.advisories} advisories: ${r.scanSeconds.join(' s, ')} s (best ${best} s, target < 2 s; ${r.findings} findings); berth db update of the ${r.advisories}: ${r.importSeconds} s; scan on push in berth serve: result ${r.onPush.seconds} s after the push, server peak RSS ${r.onPush.peakRssMiB} MiB\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
