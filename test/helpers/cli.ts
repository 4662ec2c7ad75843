import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BERTH_BIN } from './berth.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the berth process (VmHWM, bytes), when asked for. */
  peakRss?: number;
}

/** Runs `node bin/berth.js ...` as a real subprocess. */
export function berth(args: string[], env: Record<string, string>, opts: { input?: string; measure?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTH_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // VmHWM only grows, so the last reading before exit is the peak so far.
    const timer = opts.measure ? setInterval(() => (peak = Math.max(peak, readHwm(child.pid!))), 50) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code: code ?? -1, stdout, stderr, ...(opts.measure ? { peakRss: peak } : {}) });
    });
    // A command that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function readHwm(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
