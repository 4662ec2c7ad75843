import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { binNodeFlags } from '../../test/helpers/berth.js';
import { round } from '../measure.js';
import { seedRepositoryName } from '../../src/meta/seed.js';
import { Latencies, timed } from './latency.js';
import type { ScaleTarget } from './requests.js';

/** Work whose cost may grow with the registry, as long as requests beside it stay fast. */
export interface JobOp {
  id: string;
  title: string;
  /** Runs measured, the median kept: an API job's first run also starts the worker thread it runs in. */
  runs: number;
  /** Runs the job once; a CLI job reports its own process's CPU and peak RSS. */
  run(t: ScaleTarget, data: string): Promise<{ cpuSeconds?: number; peakRssMiB?: number }>;
}

export interface JobFigures {
  seconds: number;
  /** CPU of the process doing the work (a CLI job's own; for an API job: the server's, probe included). */
  cpuSeconds: number;
  /** Peak RSS of the job's process (CLI) and the server's largest RSS while it ran. */
  jobPeakRssMiB?: number;
  serverRssMiB: number;
  /** Manifest GETs answered while it ran, and their p99. */
  probeRequests: number;
  probeP99Ms: number;
  probeMaxMs: number;
}

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** Between two probe requests: the probe measures the server's answer, and must not itself load a 2-core machine. */
const PROBE_PAUSE_MS = 20;

async function api(t: ScaleTarget, method: 'GET' | 'POST', path: string): Promise<Record<string, never>> {
  const res = await request(`${t.server.origin}${path}`, { method, bodyTimeout: 0, headersTimeout: 0 });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`${t.size.name}: ${method} ${path}: HTTP ${res.statusCode}`);
  return {};
}

/** `berth <verb> --data DIR` beside the server, under GNU time for its CPU and peak RSS. */
function berthCli(verb: string, data: string): Promise<{ cpuSeconds: number; peakRssMiB: number }> {
  const args = ['-f', 'berth-time %U %S %M', process.execPath, ...binNodeFlags(), join(REPO_ROOT, 'bin/berth.js'), verb, '--data', data, '--json'];
  return new Promise((res, rej) =>
    execFile('/usr/bin/time', args, { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 3_600_000 }, (err, _stdout, stderr) => {
      const m = /berth-time ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      // fsck exits 1 when it finds a problem: a seeded registry has none, so any failure is a failure.
      if (err || !m) return rej(new Error(`berth ${verb} failed: ${stderr.slice(-2000) || err?.message}`));
      res({ cpuSeconds: Number(m[1]) + Number(m[2]), peakRssMiB: round(Number(m[3]) / 1024, 1) });
    }),
  );
}

export const JOB_OPS: JobOp[] = [
  { id: 'usage-repository', title: 'usage of one repository (API)', runs: 3, run: (t) => api(t, 'GET', `/berth/v1/usage?repo=${seedRepositoryName(Math.floor(t.size.repositories / 2))}`) },
  { id: 'usage-registry', title: 'usage of the whole registry (API, first page with totals)', runs: 3, run: (t) => api(t, 'GET', '/berth/v1/usage') },
  { id: 'gc-dry-run', title: 'GC dry run (API)', runs: 3, run: (t) => api(t, 'POST', '/berth/v1/gc/dry-run') },
  { id: 'fsck', title: 'berth fsck beside the server', runs: 1, run: (_t, data) => berthCli('fsck', data) },
  // Last: it removes the garbage the others see.
  { id: 'gc', title: 'berth gc beside the server (mark and sweep)', runs: 1, run: (_t, data) => berthCli('gc', data) },
];

/** The run of median wall time among `job.runs`. */
export async function measureJobRuns(t: ScaleTarget, data: string, job: JobOp): Promise<JobFigures> {
  const runs: JobFigures[] = [];
  for (let i = 0; i < job.runs; i++) runs.push(await measureJob(t, data, job));
  return runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

/**
 * Runs `job` while a probe sends manifest GETs one after another, and the
 * server's RSS is sampled: GC, usage and fsck may take long, never the
 * requests beside them (ARCHITECTURE invariant 6).
 */
async function measureJob(t: ScaleTarget, data: string, job: JobOp): Promise<JobFigures> {
  const probe = new Latencies();
  let serverRss = t.server.rssMiB();
  let done = false;
  const path = `${t.server.origin}/v2/${seedRepositoryName(0)}/manifests/latest`;
  const probing = (async () => {
    while (!done) {
      probe.add(await timed(async () => (await request(path, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).body.dump()));
      serverRss = Math.max(serverRss, t.server.rssMiB());
      await new Promise((r) => setTimeout(r, PROBE_PAUSE_MS));
    }
  })();
  const cpu0 = t.server.cpuSeconds();
  const t0 = performance.now();
  let own: Awaited<ReturnType<JobOp['run']>>;
  try {
    own = await job.run(t, data);
  } finally {
    done = true;
    await probing;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds: round(seconds, 3),
    cpuSeconds: round(own.cpuSeconds ?? t.server.cpuSeconds() - cpu0, 2),
    jobPeakRssMiB: own.peakRssMiB,
    serverRssMiB: round(serverRss, 1),
    probeRequests: probe.count,
    probeP99Ms: probe.quantile(0.99),
    probeMaxMs: probe.quantile(1),
  };
}
