import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './wait.js';

/** One completed system call of a traced process, in the order the calls ended. */
export interface Syscall {
  pid: number;
  name: string;
  /** The arguments as strace prints them, with every descriptor's path (`12</data/blobs/sha256/ab>`). */
  args: string;
  /** Order of the call's start: a call that starts after another one ended has a larger `started` than that one's `ended`. */
  started: number;
  ended: number;
}

export interface SyscallTrace {
  /** Detaches and returns every call traced, each with where it started and ended in the log. */
  stop(): Promise<Syscall[]>;
}

/**
 * Attaches strace (Debian's) to a running process and all its threads, and
 * records the calls named, with descriptors resolved to paths and strings up
 * to 4 KiB: what a test needs to check that a server synced something before
 * it answered. Resolves once every thread is attached.
 */
export async function traceSyscalls(pid: number, file: string, calls: string[]): Promise<SyscallTrace> {
  const strace = spawn('strace', ['-f', '-yy', '-s', '4096', '-e', `trace=${calls.join(',')}`, '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  strace.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => strace.once('exit', () => r()));
  // "Process N attached with T threads": strace reports once it holds every thread.
  await until(() => stderr.includes('attached') || strace.exitCode !== null, 'strace to attach', 30_000);
  if (strace.exitCode !== null) throw new Error(`strace could not attach: ${stderr}`);
  return {
    async stop() {
      if (strace.exitCode === null) strace.kill('SIGINT');
      await exited;
      return parseTrace(readFileSync(file, 'utf8'));
    },
  };
}

const COMPLETE = /^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)/;
const UNFINISHED = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+)\s+<\.\.\. (\w+) resumed>.*=\s+(-?\d+)/;

/** strace -f splits a call another thread interrupted into "unfinished" and "resumed" lines; they are joined here. Failed calls are dropped. */
function parseTrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const open = new Map<number, { name: string; args: string; started: number }>();
  text.split('\n').forEach((line, i) => {
    let m = COMPLETE.exec(line);
    if (m) {
      if (Number(m[4]) >= 0) calls.push({ pid: Number(m[1]), name: m[2]!, args: m[3]!, started: i, ended: i });
      return;
    }
    m = UNFINISHED.exec(line);
    if (m) {
      open.set(Number(m[1]), { name: m[2]!, args: m[3]!, started: i });
      return;
    }
    m = RESUMED.exec(line);
    const start = m ? open.get(Number(m[1])) : undefined;
    if (m && start && Number(m[3]) >= 0) calls.push({ pid: Number(m[1]), ...start, ended: i });
    if (m) open.delete(Number(m[1]));
  });
  return calls.sort((a, b) => a.ended - b.ended);
}

/** The fsyncs of a path (a file or directory), by the descriptor's path as strace resolved it. */
export function syncsOf(calls: Syscall[], path: string): Syscall[] {
  return calls.filter((c) => (c.name === 'fsync' || c.name === 'fdatasync') && c.args.replace(/^\d+/, '') === `<${path}>`);
}

export const traceFile = (dir: string) => join(dir, '..', `strace-${Date.now()}.log`);
