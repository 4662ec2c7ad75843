import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { BenchClient } from './client.js';
import type { Measurement, Scenario, Target, Workload } from './scenarios.js';
import { processTree, startBerth, type BenchServer } from './servers.js';

/**
 * What collecting metrics costs on the hot path, against what two identical servers differ by. The servers are
 * measured in pairs loaded at once, sharing one core (the generators on the other): whatever else the machine is
 * doing slows both alike, so their ratio is the ratio of their CPU per request. Measured one after the other, rounds
 * moved by up to 30 % on this VM whatever ran in them (2026-12-02), hiding a cost of a few per cent or inventing one.
 * Each scenario's on/off ratio is beside the off/off ratio of a control measured the same way.
 */
export interface MetricsCost {
  scenario: string;
  /** Median over the trios of each trio's median round, each round an on and an off server loaded at once. */
  on: Ratio;
  /** The same for a second server with metrics off: the noise floor. */
  control: Ratio;
  /** Requests per second and per server CPU-second, metrics off (median round of the median trio), for scale. */
  offReqPerSec: number;
  offPerCpuSecond: number;
}

export interface Ratio {
  /** Throughput against the metrics-off server loaded at the same time: 1.00 means no cost. */
  throughput: number;
  /** Requests per server CPU-second against the metrics-off server. */
  perCpu: number;
  /** The lowest and highest trio's per-CPU ratio. */
  perCpuRange: [number, number];
}

/** Fresh servers per scenario set: trios, each an on, an off and a control server started in a rotating order. */
const TRIOS = 3;
/** Rounds per trio and scenario: in each, on and off are loaded at once, and control and off, in alternating order. */
const ROUNDS = 3;
const ROUND_SECONDS = 3;
/** Images pushed to each server: enough distinct manifests and blobs that no answer is one cached line. */
const IMAGES = 50;

type Role = 'on' | 'off' | 'control';
const ROLES: Role[] = ['on', 'off', 'control'];
/** A server's round and the off server's, measured at the same time. */
type Pair = [Measurement, Measurement];
type Pairs = Record<'on' | 'control', Pair[]>;

const perCpu = (m: Measurement): number => (m.cpu && m.cpu.server > 0 ? m.value / m.cpu.server : NaN);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (n: number): number => Math.round(n * 100) / 100;

export async function metricsCost(work: Workload, all: Scenario[]): Promise<MetricsCost[]> {
  const push = all.find((s) => s.id === 'small-images')!;
  const reads = all.filter((s) => s.id === 'manifest-get' || s.id === 'blob-head');
  const small: Workload = { ...work, small: work.small.slice(0, IMAGES), opts: { ...work.opts, images: IMAGES, seconds: ROUND_SECONDS } };
  const pinned = pinGenerator();
  try {
    const trios: Record<string, Pairs>[] = [];
    for (let i = 0; i < TRIOS; i++) trios.push(await oneTrio(i, small, push, reads, pinned));
    return reads.map((s) => summarise(s.id, trios.map((t) => t[s.id]!)));
  } finally {
    if (pinned) unpin(process.pid);
  }
}

async function oneTrio(i: number, work: Workload, push: Scenario, reads: Scenario[], pinned: boolean): Promise<Record<string, Pairs>> {
  const env: Record<Role, Record<string, string>> = { on: {}, off: { BERTH_METRICS_ENABLED: 'false' }, control: { BERTH_METRICS_ENABLED: 'false' } };
  const order = rotate(ROLES, i);
  const targets = {} as Record<Role, Target>;
  try {
    for (const role of order) {
      const server: BenchServer = await startBerth(undefined, env[role]);
      targets[role] = { server, client: new BenchClient(server.origin), work, round: 0 };
      if (pinned) pinServer(server);
      await push.run(targets[role]);
    }
    const out: Record<string, Pairs> = {};
    for (const s of reads) {
      const got: Pairs = { on: [], control: [] };
      for (let r = 0; r < ROUNDS; r++) {
        process.stderr.write(`metrics cost, ${s.id}: trio ${i + 1}/${TRIOS}, round ${r + 1}/${ROUNDS}...\n`);
        // Which pair goes first alternates: the off server has run one more round when it meets the second.
        for (const role of (r + i) % 2 === 0 ? (['on', 'control'] as const) : (['control', 'on'] as const)) got[role].push(await atOnce(s, targets[role], targets.off));
      }
      out[s.id] = got;
    }
    return out;
  } finally {
    await Promise.all(Object.values(targets).map(async (t) => (await t.client.close(), await t.server.stop())));
  }
}

/** One round of a scenario against two servers at once. */
async function atOnce(s: Scenario, a: Target, off: Target): Promise<Pair> {
  const [ma, moff] = await Promise.all([s.run(a), s.run(off)]);
  return [ma, moff];
}

function summarise(scenario: string, trios: Pairs[]): MetricsCost {
  // Per trio, the median round of each ratio; then the median trio.
  const ratio = (role: 'on' | 'control'): Ratio => {
    const tp = trios.map((t) => median(t[role].map(([m, off]) => m.value / off.value)));
    const cpu = trios.map((t) => median(t[role].map(([m, off]) => perCpu(m) / perCpu(off))));
    return { throughput: r2(median(tp)), perCpu: r2(median(cpu)), perCpuRange: [r2(Math.min(...cpu)), r2(Math.max(...cpu))] };
  };
  const offs = trios.flatMap((t) => [...t.on, ...t.control].map(([, off]) => off));
  return { scenario, on: ratio('on'), control: ratio('control'), offReqPerSec: Math.round(median(offs.map((m) => m.value))), offPerCpuSecond: Math.round(median(offs.map(perCpu))) };
}

function rotate<T>(xs: T[], by: number): T[] {
  const k = by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/**
 * With two cores or more, the servers run on core 0 and this process (and the wrk it spawns, which inherits it) on
 * core 1, so a server never shares its core with the generator or with the other servers' idle threads' wake-ups.
 */
function pinGenerator(): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pinServer(server: BenchServer): void {
  for (const pid of processTree(server.pid)) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
}

function unpin(pid: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(pid)], { stdio: 'ignore' });
}

export function formatMetricsCost(rows: MetricsCost[]): string {
  const ratio = (r: Ratio) => `throughput ${r.throughput.toFixed(2)}, per server CPU-second ${r.perCpu.toFixed(2)} (trios ${r.perCpuRange[0].toFixed(2)}-${r.perCpuRange[1].toFixed(2)})`;
  return [
    `Metrics cost (Berth with metrics on vs metrics.enabled: false, and a second server with metrics off as the control; median of ${TRIOS} trios of fresh servers, ${ROUNDS} rounds of ${ROUND_SECONDS} s each with both servers of a pair loaded at once):`,
    ...rows.map(
      (r) =>
        `  ${r.scenario}: on/off ${ratio(r.on)}; control off/off ${ratio(r.control)}; ` +
        `metrics off: ${r.offReqPerSec} req/s, ${r.offPerCpuSecond} per server CPU-second`,
    ),
    '  No drop means on/off within what the control shows two identical servers differ by. Req/s are of one server sharing its core with another.',
  ].join('\n');
}
