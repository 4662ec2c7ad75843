import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { acquireS3pg, TEST_BACKEND } from './backends.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const BERTH_BIN = join(REPO_ROOT, 'bin/berth.js');

export interface BerthServer {
  /** `127.0.0.1:PORT`, as clients write it in references. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  dataDir: string;
  process: ChildProcess;
  /** Log lines the server wrote so far (JSON objects). */
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process has ended by itself. */
  exited: Promise<number | null>;
  /** Ids of upload sessions whose bytes are still in storage (on disk, or in the bucket). */
  pendingUploads(): Promise<string[]>;
}

export interface StartOptions {
  dataDir?: string;
  /** YAML text written to a config file passed with --config. */
  config?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Working directory of the server (relative paths in the config resolve against it). */
  cwd?: string;
}

/** The node flags on bin/berth.js's shebang line: tests and the bench run Berth as the installed `berth` command does. */
export function binNodeFlags(): string[] {
  const shebang = readFileSync(BERTH_BIN, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  if (!m) throw new Error(`bin/berth.js: unexpected shebang ${shebang}`);
  return m[1]!.split(' ').filter(Boolean);
}

/** Every directory a test made; removed when its test file's process exits (`BERTH_TEST_KEEP=1` keeps them to look at). */
const made = new Set<string>();

export function tempDir(prefix = 'berth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.size === 0 && !process.env.BERTH_TEST_KEEP) process.once('exit', removeMade);
  made.add(dir);
  return dir;
}

function removeMade(): void {
  // A run of the whole suite made thousands of these, some of them gigabytes.
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // A server a failed test left running may still write there; the test's own failure is the report.
    }
  }
}

/** Starts a real `berth serve` on a random loopback port and waits until it listens. */
export async function startBerth(opts: StartOptions = {}): Promise<BerthServer> {
  const dataDir = opts.dataDir ?? tempDir();
  // A suite that brings its own bucket keeps it, whichever backends the run selects.
  const backend = TEST_BACKEND === 's3pg' && !opts.env?.BERTH_STORAGE_S3_BUCKET ? await acquireS3pg(dataDir) : undefined;
  const args = [...binNodeFlags(), BERTH_BIN, 'serve', '--addr', '127.0.0.1:0', '--data', dataDir, ...(opts.args ?? [])];
  if (opts.config !== undefined) {
    const file = join(dataDir, '..', `berth-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, opts.config);
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    // No drain window unless a test asks for one: every stop would wait it out.
    env: { BERTH_HTTP_DRAIN_PERIOD: '0', ...process.env, ...backend?.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolveAddr, reject) => {
    const timer = setTimeout(() => {
      // Its workers go with the supervisor: nothing is left running for the rest of the test run.
      child.kill('SIGKILL');
      reject(new Error(`berth serve did not start in time:\n${stderr}`));
    }, 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'berth registry listening') {
          clearTimeout(timer);
          resolveAddr(entry.address as string);
        }
      } catch {
        // a non-JSON line: keep going
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth serve exited with ${code} before listening:\n${stderr}`));
    });
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    host: address,
    url: `http://${address}`,
    dataDir,
    process: child,
    logs,
    exited,
    pendingUploads: async () => backend?.pendingUploads() ?? readdirSync(join(dataDir, 'uploads')),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
