import type { SeedReport } from '../../src/meta/seed.js';
import type { JobFigures } from './jobs.js';
import { JOB_OPS } from './jobs.js';
import { REQUEST_OPS, type RequestFigures } from './requests.js';
import type { ScaleSize } from './sizes.js';

export interface ScaleRow {
  size: ScaleSize;
  seeded: SeedReport & { seconds: number };
  requests: Map<string, RequestFigures>;
  /** The same requests on Distribution, at the sizes it is measured at (ScaleSize.distribution). */
  distribution?: Map<string, RequestFigures>;
  jobs: Map<string, JobFigures>;
  serverPeakRssMiB: number;
}

/** The bound: a per-request figure may at most double from the smallest size to the largest. */
export const FLAT_RATIO = 2;
export const RSS_BUDGET_MIB = 150;

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Markdown tables: requests (median, p99, server CPU) with their flatness verdict, then jobs with the probe beside them. */
export function formatScaleTables(rows: ScaleRow[]): string {
  const sizes = rows.map((r) => `${r.size.name} (${r.seeded.blobs} blobs)`);
  const line = (title: string, f: (RequestFigures | undefined)[]) => {
    const measured = f.filter((x) => x !== undefined);
    const growth = measured[measured.length - 1]!.medianMs / measured[0]!.medianMs;
    const verdict = measured.length < 2 ? '-' : `${growth.toFixed(2)}x ${growth <= FLAT_RATIO ? 'flat' : 'NOT FLAT'}`;
    return [title, ...f.map((x) => (x ? `${x.medianMs} (p99 ${x.p99Ms}; cpu ${x.cpuMs})` : 'not measured')), verdict];
  };
  const withDistribution = rows.some((r) => r.distribution);
  const requests = REQUEST_OPS.flatMap((op) => [
    line(withDistribution ? `${op.title}: Berth` : op.title, rows.map((r) => r.requests.get(op.id))),
    ...(withDistribution ? [line(`${op.title}: Distribution`, rows.map((r) => r.distribution?.get(op.id)))] : []),
  ]);
  const jobs = JOB_OPS.map((op) => [
    op.title,
    ...rows.map((r) => {
      const j = r.jobs.get(op.id)!;
      const rss = j.jobPeakRssMiB !== undefined ? `, rss ${j.jobPeakRssMiB} MiB` : '';
      return `${j.seconds} s (cpu ${j.cpuSeconds} s${rss}; probe p99 ${j.probeP99Ms} ms, max ${j.probeMaxMs} ms, n=${j.probeRequests})`;
    }),
  ]);
  const rss = ['server peak RSS (VmHWM), MiB', ...rows.map((r) => `${r.serverPeakRssMiB} ${r.serverPeakRssMiB <= RSS_BUDGET_MIB ? '' : 'OVER '}(budget ${RSS_BUDGET_MIB})`)];
  const seeded = ['seeded: repositories / tags / manifests / blobs (garbage), seconds', ...rows.map((r) => `${r.seeded.repositories} / ${r.seeded.tags} / ${r.seeded.manifests} / ${r.seeded.blobs} (${r.seeded.garbage}), ${r.seeded.seconds} s`)];
  return [
    'Single requests, one at a time: median ms (p99; server CPU ms per request)',
    '',
    table(['request', ...sizes, 'largest/smallest measured'], requests),
    '',
    'Jobs, one run each, with a manifest-GET probe beside them',
    '',
    table(['job', ...sizes], [...jobs, rss, seeded]),
  ].join('\n');
}
