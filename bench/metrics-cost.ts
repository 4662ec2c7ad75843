import { BenchClient } from './client.js';
import type { Measurement, Scenario, Target, Workload } from './scenarios.js';
import { startBerth, type BenchServer } from './servers.js';

/** What collecting metrics costs on the hot path: the same reads against Berth with metrics on and off. */
export interface MetricsCost {
  scenario: string;
  on: Measurement;
  off: Measurement;
  /** on/off throughput: 1.00 means no cost. */
  ratio: number;
  /** on/off requests per second of server CPU: the same, less sensitive to other load on the machine. */
  cpuRatio: number;
}

/** Requests answered per second of server CPU. */
const perCpu = (m: Measurement): number => (m.cpu && m.cpu.server > 0 ? m.value / m.cpu.server : NaN);

/** Rounds per scenario, alternating which server goes first; the median round counts. */
const ROUNDS = 3;

/**
 * Two Berths on their defaults, one with `metrics.enabled: false`, loaded
 * with the same small images, then manifest GET and HEAD blob on each in
 * turn. Both servers run through the whole comparison at once, so neither
 * gets a quieter machine.
 */
export async function metricsCost(work: Workload, all: Scenario[]): Promise<MetricsCost[]> {
  const push = all.find((s) => s.id === 'small-images')!;
  const reads = all.filter((s) => s.id === 'manifest-get' || s.id === 'blob-head');
  const servers: BenchServer[] = [await startBerth(undefined, {}), await startBerth(undefined, { BERTH_METRICS_ENABLED: 'false' })];
  const [on, off] = servers.map((server) => ({ server, client: new BenchClient(server.origin), work, round: 0 })) as [Target, Target];
  try {
    for (const t of [on, off]) await push.run(t);
    const out: MetricsCost[] = [];
    for (const s of reads) {
      const rounds: { on: Measurement; off: Measurement }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        process.stderr.write(`metrics cost, ${s.id}: round ${i + 1}...\n`);
        const first = i % 2 === 0 ? on : off;
        const a = await s.run(first);
        const b = await s.run(first === on ? off : on);
        rounds.push(first === on ? { on: a, off: b } : { on: b, off: a });
      }
      rounds.sort((x, y) => x.on.value / x.off.value - y.on.value / y.off.value);
      const median = rounds[Math.floor(ROUNDS / 2)]!;
      const r2 = (n: number) => Math.round(n * 100) / 100;
      out.push({ scenario: s.id, ...median, ratio: r2(median.on.value / median.off.value), cpuRatio: r2(perCpu(median.on) / perCpu(median.off)) });
    }
    return out;
  } finally {
    await Promise.all([on, off].map((t) => t.client.close()));
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export function formatMetricsCost(rows: MetricsCost[]): string {
  return [
    'Metrics cost (Berth with metrics on vs metrics.enabled: false, median of 3 alternating rounds):',
    ...rows.map(
      (r) =>
        `  ${r.scenario}: on ${r.on.value} req/s (${Math.round(perCpu(r.on))} per server CPU-second, p99 ${r.on.extra?.p99ms} ms), ` +
        `off ${r.off.value} req/s (${Math.round(perCpu(r.off))} per CPU-second, p99 ${r.off.extra?.p99ms} ms); on/off ${r.ratio.toFixed(2)}, per CPU ${r.cpuRatio.toFixed(2)}`,
    ),
  ].join('\n');
}
