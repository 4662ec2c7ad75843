import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { s3pgEnv } from '../test/helpers/backends.js';
import { binNodeFlags } from '../test/helpers/berth.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { startRgw } from '../test/helpers/rgw.js';
import { startS3, type S3Server } from '../test/helpers/s3.js';

export type ServerName = 'Distribution' | 'Berth' | 'Berth S3+PG' | 'Berth RGW+PG' | 'Ceiling' | 'Berth 2 workers';

/** One registry under test: a child process on a loopback port with its own data directory. */
export interface BenchServer {
  name: ServerName;
  origin: string;
  host: string;
  pid: number;
  /** user+system CPU seconds the server has used so far: its process and every process under it (`--workers`). */
  cpuSeconds(): number;
  /** Peak resident set (VmHWM) in MiB so far of its largest process (the budget is per process). */
  peakRssMiB(): number;
  /** Resident set (VmRSS) in MiB now of its largest process. */
  rssMiB(): number;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const TICKS_PER_SECOND = 100;

/** Directories the bench made: servers' data, workloads, outputs. Each holds up to a few GiB, so none outlives the run. */
const scratch = new Set<string>();
/** Servers still running: killed when the bench exits, however it exits, so none holds a port or a directory after it. */
const running = new Set<ChildProcess>();

export function benchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanUpAtExit();
  scratch.add(dir);
  return dir;
}

/** `--scale-keep`: leave this one for the user to look at. */
export function keepBenchDir(dir: string): void {
  scratch.delete(dir);
}

let armed = false;

function cleanUpAtExit(): void {
  if (armed) return;
  armed = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });
  // Ctrl-C and `kill` end the run through 'exit' too, so an interrupted bench does not leave its servers' data behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

/** Installs the Debian packages the bench needs when they are missing (root only; the message says what to do otherwise). */
export function ensureTools(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length === 0) return;
  const pkgs = missing.map(([, pkg]) => pkg);
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.map(([b]) => b).join(', ')}: run  apt-get install -y ${pkgs.join(' ')}`);
  process.stderr.write(`installing ${pkgs.join(' ')} from Debian...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed`);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** `pid` and its descendants, from the parent field of every /proc/N/stat. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  for (const queue = [pid]; queue.length; ) {
    const p = queue.pop()!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** Sums (or takes the largest of) a figure over a process tree; a process that exits meanwhile counts nothing. */
function overTree(pid: number, figure: (pid: number) => number, combine: (a: number, b: number) => number): number {
  return processTree(pid).reduce((acc, p) => {
    try {
      return combine(acc, figure(p));
    } catch {
      return acc;
    }
  }, 0);
}

export function procCpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** How long a server may take to answer `/v2/`: on a loaded machine a Node server's start alone takes tens of seconds. */
const START_MS = 120_000;

async function waitReady(origin: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (const deadline = Date.now() + START_MS; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${stderr()}`);
    try {
      const r = await request(`${origin}/v2/`);
      await r.body.dump();
      if (r.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server at ${origin} did not start:\n${stderr()}`);
}

/** The bench stops servers with SIGTERM; a drain window would only add its seconds to every stop. */
const NO_DRAIN = { BERTH_HTTP_DRAIN_PERIOD: '0' };

async function launch(name: ServerName, cmd: string, args: string[], port: number, env?: Record<string, string>): Promise<BenchServer> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_ROOT, env: { ...process.env, ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const origin = `http://127.0.0.1:${port}`;
  try {
    // A server that never answered would outlive the bench, holding its port and data directory.
  await waitReady(origin, child, () => err).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const pid = child.pid!;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    origin,
    host: `127.0.0.1:${port}`,
    pid,
    cpuSeconds: () => overTree(pid, procCpuSeconds, (a, b) => a + b),
    peakRssMiB: () => overTree(pid, (p) => procStatus(p, 'VmHWM'), Math.max),
    rssMiB: () => overTree(pid, (p) => procStatus(p, 'VmRSS'), Math.max),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Berth with its defaults (embedded SQLite + filesystem, fsync on), logging only
 * warnings, as Distribution runs with its access log off. `profileDir` adds `--cpu-prof`.
 */
export async function startBerth(profileDir?: string, env?: Record<string, string>, config?: string): Promise<BenchServer> {
  const port = await freePort();
  return launch('Berth', process.execPath, berthArgs(port, profileDir, config), port, { ...NO_DRAIN, ...env });
}

/** Berth on its defaults with `args` added (`--workers 2`), on `data` when given (a seeded registry). */
export async function startBerthWith(name: ServerName, args: string[], data?: string): Promise<BenchServer> {
  const port = await freePort();
  return launch(name, process.execPath, [...berthArgs(port, undefined, undefined, data), ...args], port, NO_DRAIN);
}

/**
 * Berth on S3 + PostgreSQL: the same s3rver (npm) and throwaway PostgreSQL
 * cluster the tests use, so the figures measure those local stand-ins as
 * much as Berth (s3rver keeps objects as files, in Node).
 */
export function startBerthS3pg(): Promise<BenchServer> {
  return startBerthOnS3('Berth S3+PG', startS3);
}

/**
 * Berth on a real S3 implementation: Ceph's RADOS Gateway on a one-OSD
 * memstore cluster (test/helpers/rgw.ts), + PostgreSQL. The gateway, monitor
 * and OSD share the machine's cores with Berth and the generator.
 */
export function startBerthRgwPg(): Promise<BenchServer> {
  return startBerthOnS3('Berth RGW+PG', async () => {
    const rgw = await startRgw();
    process.stderr.write(`Ceph RGW cluster up in ${(rgw.startMs / 1000).toFixed(1)} s\n`);
    return rgw;
  });
}

async function startBerthOnS3(name: ServerName, startBucket: () => Promise<S3Server>): Promise<BenchServer> {
  const [s3, pg] = await Promise.all([startBucket(), startPostgres()]);
  const port = await freePort();
  let server: BenchServer;
  try {
    server = await launch(name, process.execPath, berthArgs(port), port, { ...s3pgEnv(s3, await pg.createDatabase('bench')), ...NO_DRAIN });
  } catch (e) {
    await Promise.all([s3.stop(), pg.stop()]);
    throw e;
  }
  return {
    ...server,
    async stop() {
      await server.stop();
      await Promise.all([s3.stop(), pg.stop()]);
    },
  };
}

/** `config`: berth.yaml text, for a server configured beyond the defaults (the pull-through cache). */
function berthArgs(port: number, profileDir?: string, config?: string, data = benchDir('berth-bench-')): string[] {
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const file = join(data, '..', `${data.split('/').pop()}.yaml`);
  if (config !== undefined) writeFileSync(file, config);
  return [...prof, ...binNodeFlags(), join(REPO_ROOT, 'bin/berth.js'), 'serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--log-level', 'warn', ...(config !== undefined ? ['--config', file] : [])];
}

/** Distribution 2.8 configured like the `registry:2` image (in-memory blob descriptor cache), logs off, delete on. */
export async function startDistribution(): Promise<BenchServer> {
  const port = await freePort();
  const dir = benchDir('distribution-bench-');
  mkdirSync(join(dir, 'data'));
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      'storage:',
      `  filesystem: { rootdirectory: ${join(dir, 'data')} }`,
      '  cache: { blobdescriptor: inmemory }',
      '  delete: { enabled: true }',
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  return launch('Distribution', 'docker-registry', ['serve', config], port);
}


/** The push ceiling (bench/ceiling-server.ts): hashes and writes bodies, fsyncs as Berth does, nothing else. */
export async function startCeiling(): Promise<BenchServer> {
  const port = await freePort();
  return launch('Ceiling', process.execPath, [join(REPO_ROOT, 'dist/bench/ceiling-server.js'), String(port), benchDir('ceiling-bench-')], port);
}
