import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchServer } from './servers.js';

/** Where the CPU went during one measurement, in cores (1.0 = one core busy for the whole time). */
export interface CpuShare {
  server: number;
  generator: number;
  machine: number;
  /** The load generator had no CPU left to give: the number may be the generator's limit, not the server's. */
  generatorSaturated: boolean;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3]! + line[4]!;
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Samples server, generator and machine CPU around `work`. The generator counts
 * as saturated when its threads were nearly all busy, or when the machine was
 * full and the generator used at least as much CPU as the server.
 */
export async function withCpu<T>(server: BenchServer, generatorThreads: number, work: () => Promise<{ result: T; generatorSeconds?: number }>) {
  const cores = cpus().length;
  const m0 = machineTicks();
  const s0 = server.cpuSeconds();
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  const { result, generatorSeconds } = await work();
  const wall = (performance.now() - t0) / 1000;
  const g = process.cpuUsage(g0);
  const m1 = machineTicks();
  const genSeconds = generatorSeconds ?? (g.user + g.system) / 1e6;
  const share: CpuShare = {
    server: round((server.cpuSeconds() - s0) / wall),
    generator: round(genSeconds / wall),
    machine: round(((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cores),
    generatorSaturated: false,
  };
  share.generatorSaturated = share.generator >= 0.9 * generatorThreads || (share.machine >= 0.95 * cores && share.generator >= share.server);
  return { result, wall, cpu: share };
}

export interface WrkResult {
  requests: number;
  reqPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  cpuSeconds: number;
}

/** A Lua script that sends `method` to each path in turn (per thread) with fixed headers. */
export function wrkScript(dir: string, name: string, method: 'GET' | 'HEAD', paths: string[], headers: Record<string, string> = {}): string {
  const lua = [
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}`,
    `local headers = {${Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}]=${JSON.stringify(v)}`).join(',')}}`,
    'local i = 0',
    'request = function()',
    '  i = i % #paths + 1',
    `  return wrk.format("${method}", paths[i], headers)`,
    'end',
    '',
  ].join('\n');
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, lua);
  return file;
}

function toMs(value: string, unit: string): number {
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
  return Number(value) * (factor[unit] ?? NaN);
}

/** Runs wrk through `sh` so that the shell's `times` reports wrk's own CPU use. */
export function runWrk(origin: string, script: string, opts: { threads: number; connections: number; seconds: number }): Promise<WrkResult> {
  const cmd = 'wrk "$@"; code=$?; times; exit $code';
  const args = ['-c', cmd, 'sh', '-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', '-s', script, origin];
  return new Promise((res, rej) => {
    execFile('sh', args, { encoding: 'utf8', timeout: (opts.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`wrk failed: ${err.message}\n${stderr}${stdout}`));
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
      const lat = (pct: string) => {
        const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(stdout);
        return m ? toMs(m[1]!, m[2]!) : NaN;
      };
      const cpuSeconds = childCpuSeconds(stdout);
      const non2xx = num(/Non-2xx or 3xx responses: (\d+)/) || 0;
      const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const socketErrors = sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      res({
        requests: num(/(\d+) requests in/),
        reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
        p50ms: lat('50'),
        p99ms: lat('99'),
        errors: non2xx + socketErrors,
        cpuSeconds,
      });
    });
  });
}

/**
 * The CPU seconds (user + system) of the children of a `sh -c '...; times'`:
 * `times` prints two lines, the shell's own and then its children's, "0m1.23s 0m0.45s".
 * NaN when the line is missing.
 */
export function childCpuSeconds(stdout: string): number {
  const child = [...stdout.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)][1];
  return child ? Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]) : NaN;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
