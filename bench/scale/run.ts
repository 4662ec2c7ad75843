import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { BenchClient } from '../client.js';
import { round } from '../measure.js';
import { benchDir, keepBenchDir, startBerthWith, type BenchServer } from '../servers.js';
import { lineChart, type ChartPoint } from './charts.js';
import { JOB_OPS, measureJobRuns, type JobFigures } from './jobs.js';
import { measureRequests, pushImages, REQUEST_OPS, type ScaleTarget } from './requests.js';
import { seedDataDir } from './seed-data.js';
import type { ScaleSize } from './sizes.js';
import { formatScaleTables, type ScaleRow } from './tables.js';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * `npm run bench -- --scale`: seeds one registry per size, serves each with
 * its own `berth serve`, measures single requests (interleaved across sizes)
 * and then the jobs whose cost grows with the registry, one size at a time.
 * Writes bench/results/scale-*.json and the charts in docs/bench/.
 */
export async function scaleBench(sizes: ScaleSize[], opts: { keep: boolean; machine: object; priority: number }): Promise<void> {
  const started = new Date();
  const loadStart = loadavg()[0]!;
  const dirs = sizes.map(() => benchDir('berth-scale-'));
  const seeded: ScaleRow['seeded'][] = [];
  for (const [k, size] of sizes.entries()) {
    process.stderr.write(`scale: seeding ${size.name} (${size.repositories} repositories, ${size.tags} tags, ~${size.blobs} blobs) in ${dirs[k]}...\n`);
    const r = await seedDataDir(dirs[k]!, size);
    process.stderr.write(`  ${r.blobs} blobs, ${r.manifests} manifests, ${r.garbage} garbage in ${r.seconds} s\n`);
    seeded.push(r);
  }
  const servers: BenchServer[] = [];
  const targets: ScaleTarget[] = [];
  try {
    for (const [k, size] of sizes.entries()) {
      const server = await startBerthWith('Berth', [], dirs[k]!);
      servers.push(server);
      targets.push({ size, server, pool: new Pool(server.origin, { connections: 1 }), client: new BenchClient(server.origin, 1), images: pushImages() });
    }
    process.stderr.write(`scale: single requests, interleaved over ${sizes.map((s) => s.name).join(', ')}...\n`);
    const requests = await measureRequests(targets);
    const jobs = new Map<string, Map<string, JobFigures>>();
    for (const [k, t] of targets.entries()) {
      const figures = new Map<string, JobFigures>();
      for (const job of JOB_OPS) {
        process.stderr.write(`scale: ${t.size.name}: ${job.id}...\n`);
        figures.set(job.id, await measureJobRuns(t, dirs[k]!, job));
      }
      jobs.set(t.size.name, figures);
    }
    const peakRss = Object.fromEntries(targets.map((t) => [t.size.name, round(t.server.peakRssMiB(), 1)]));
    const rows: ScaleRow[] = sizes.map((size, k) => ({ size, seeded: seeded[k]!, requests: requests.get(size.name)!, jobs: jobs.get(size.name)!, serverPeakRssMiB: peakRss[size.name]! }));
    const report = {
      date: started.toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      priority: opts.priority,
      loadAverage: { start: round(loadStart), end: round(loadavg()[0]!) },
      machine: opts.machine,
      sizes: rows.map((r) => ({ ...r, requests: Object.fromEntries(r.requests), jobs: Object.fromEntries(r.jobs) })),
    };
    process.stdout.write(`\n${formatScaleTables(rows)}\n\nload average ${report.loadAverage.start} at start, ${report.loadAverage.end} at end\n`);
    const results = join(REPO_ROOT, 'bench/results');
    mkdirSync(results, { recursive: true });
    const file = join(results, `scale-${started.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    writeCharts(rows);
    process.stdout.write(`written ${file} and docs/bench/scale-*.svg\n`);
  } finally {
    await Promise.all(targets.flatMap((t) => [t.pool.close(), t.client.close()]));
    await Promise.all(servers.map((s) => s.stop()));
    if (opts.keep) dirs.forEach(keepBenchDir);
    else for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function writeCharts(rows: ScaleRow[]): void {
  const dir = join(REPO_ROOT, 'docs/bench');
  mkdirSync(dir, { recursive: true });
  const x = 'blobs in the registry (repositories: a tenth, tags in one repository: a hundredth)';
  const points = (pick: (r: ScaleRow) => { line: string; y: number }[]): ChartPoint[] => rows.flatMap((r) => pick(r).map((p) => ({ ...p, x: r.seeded.blobs })));
  const request = points((r) => REQUEST_OPS.map((o) => ({ line: o.id, y: r.requests.get(o.id)!.medianMs })));
  writeFileSync(join(dir, 'scale-requests.svg'), lineChart(request, { title: 'Berth: one request, median ms, by registry size', x, y: 'median ms per request', logY: true }));
  const jobs = points((r) => JOB_OPS.map((o) => ({ line: o.id, y: r.jobs.get(o.id)!.seconds })));
  writeFileSync(join(dir, 'scale-jobs.svg'), lineChart(jobs, { title: 'Berth: GC, usage and fsck, seconds, by registry size', x, y: 'seconds', logY: true }));
  const probe = points((r) => JOB_OPS.map((o) => ({ line: o.id, y: r.jobs.get(o.id)!.probeP99Ms })));
  writeFileSync(join(dir, 'scale-probe.svg'), lineChart(probe, { title: 'Berth: manifest GET p99 (ms) while each job runs', x, y: 'probe p99 ms' }));
}
