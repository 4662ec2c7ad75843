import type { Measurement, Scenario } from './scenarios.js';

export interface Row {
  scenario: Scenario;
  distribution: Measurement;
  berth: Measurement;
  /** Berth on S3 (s3rver) + PostgreSQL, when that column runs. */
  s3pg?: Measurement;
  /** Berth on Ceph RGW + PostgreSQL, when that column runs (`--rgw`). */
  rgwpg?: Measurement;
  /** The push ceiling server (bench/ceiling-server.ts), for the scenarios measured against it. */
  ceiling?: Measurement;
  /** `berth serve --workers 2`, for the scenarios `--workers-rows` runs it on. */
  workers?: Measurement;
  /** For RSS: Berth's own ceiling instead of a ratio target. */
  absoluteLimit?: number;
}

/** Berth's advantage: > 1 means Berth did better, whichever direction the unit runs. */
export function advantage(r: Row, b: Measurement = r.berth): number {
  const d = r.distribution;
  return r.scenario.higherIsBetter ? b.value / d.value : d.value / b.value;
}

function verdict(r: Row): string {
  if (r.absoluteLimit !== undefined) return r.berth.value <= r.absoluteLimit ? `met (<= ${r.absoluteLimit})` : `MISSED (<= ${r.absoluteLimit})`;
  if (r.scenario.target === undefined) return '-';
  return `${advantage(r) >= r.scenario.target ? 'met' : 'MISSED'} (>= ${r.scenario.target}x)`;
}

function cell(m: Measurement): string {
  const lat = m.extra?.p50ms !== undefined ? ` (p50 ${m.extra.p50ms} / p99 ${m.extra.p99ms} ms)` : '';
  const walk = m.extra?.sequentialWalkMs !== undefined ? ` (1 walk ${m.extra.sequentialWalkMs} ms)` : '';
  const sat = m.cpu?.generatorSaturated ? ' *' : '';
  return `${m.value}${lat}${walk}${sat}`;
}

/** The optional columns after the target: Berth on other backends, or with more processes. */
const BACKEND_COLUMNS = [
  ['Berth S3+PG', (r: Row) => r.s3pg],
  ['Berth RGW+PG', (r: Row) => r.rgwpg],
  ['Berth 2 workers', (r: Row) => r.workers],
] as const;

/** A Markdown table, readable on a terminal too. */
export function formatTable(rows: Row[]): string {
  const columns = BACKEND_COLUMNS.filter(([, of]) => rows.some((r) => of(r)));
  const ratio = (r: Row, m: Measurement) => (r.absoluteLimit !== undefined ? '-' : `${advantage(r, m).toFixed(2)}x`);
  const header = ['scenario', 'unit', 'Distribution', 'Berth', 'ratio', 'target', ...columns.flatMap(([name]) => [name, 'ratio'])];
  const body = rows.map((r) => [
    r.scenario.title,
    r.scenario.unit,
    cell(r.distribution),
    cell(r.berth),
    ratio(r, r.berth),
    verdict(r),
    ...columns.flatMap(([, of]) => {
      const m = of(r);
      return m ? [cell(m), ratio(r, m)] : ['-', '-'];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const cpuNotes = rows
    .filter((r) => r.distribution.cpu || r.berth.cpu)
    .map((r) => {
      const c = (m: Measurement) => (m.cpu ? `server ${m.cpu.server} / generator ${m.cpu.generator} / machine ${m.cpu.machine}` : '-');
      const others = columns.map(([name, of]) => (of(r) ? `; ${name} ${c(of(r)!)}` : '')).join('');
      return `  ${r.scenario.id}: Distribution ${c(r.distribution)}; Berth ${c(r.berth)}${others}`;
    });
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    'ratio: Berth/Distribution for rates, Distribution/Berth for times and sizes (> 1 = Berth better); targets apply to Berth on its defaults.',
    '* the load generator was CPU-saturated: the figure may be the generator\'s limit.',
    'CPU used, in cores (server / load generator / whole machine):',
    ...cpuNotes,
    ...perImageLines(rows, columns),
    ...ceilingLines(rows),
  ].join('\n');
}

/** Server CPU per image pushed: what a loaded machine disturbs less than images/s. */
function perImageLines(rows: Row[], columns: typeof BACKEND_COLUMNS[number][]): string[] {
  const ms = (m: Measurement | undefined) => (m?.cpu && m.value > 0 ? `${((m.cpu.server / m.value) * 1000).toFixed(1)} ms` : '-');
  return rows
    .filter((r) => r.scenario.unit === 'images/s')
    .map((r) => `  ${r.scenario.id}: server CPU per image: Distribution ${ms(r.distribution)}; Berth ${ms(r.berth)}${columns.map(([name, of]) => (of(r) ? `; ${name} ${ms(of(r))}` : '')).join('')}`);
}

/** Berth against the push ceiling (target >= 0.9x), and chunked against monolithic (>= 0.9x), with the server CPU each byte cost. */
function ceilingLines(rows: Row[]): string[] {
  const measured = rows.filter((r) => r.ceiling);
  if (measured.length === 0) return [];
  const met = (x: number) => `${x.toFixed(2)}x, ${x >= CEILING_TARGET ? 'met' : 'MISSED'} (>= ${CEILING_TARGET}x)`;
  const perGiB = (m: Measurement) => (m.cpu && m.extra?.seconds ? `${((m.cpu.server * m.extra.seconds) / ((m.value * m.extra.seconds) / 1024)).toFixed(2)} CPU-s/GiB` : '-');
  const spread = (m: Measurement) => (m.extra?.rounds ? ` (median of ${m.extra.rounds}: ${m.extra.min}-${m.extra.max})` : '');
  const lines = measured.map(
    (r) => `  ${r.scenario.id}: Berth ${r.berth.value}${spread(r.berth)}, ceiling ${r.ceiling!.value}${spread(r.ceiling!)} ${r.scenario.unit}: Berth/ceiling ${met(r.berth.value / r.ceiling!.value)}; server ${perGiB(r.berth)} vs ${perGiB(r.ceiling!)}`,
  );
  const mono = rows.find((r) => r.scenario.id === 'push-mono');
  const chunked = rows.find((r) => r.scenario.id === 'push-chunked');
  if (mono && chunked) lines.push(`  chunked/monolithic: Berth ${met(chunked.berth.value / mono.berth.value)}; ceiling ${(chunked.ceiling!.value / mono.ceiling!.value).toFixed(2)}x`);
  return ['Against the push ceiling (a server that only hashes, writes and fsyncs: bench/ceiling-server.ts):', ...lines];
}

const CEILING_TARGET = 0.9;
