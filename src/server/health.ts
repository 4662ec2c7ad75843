import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import { RegistryError } from '../oci/errors.js';

/** Something that keeps the registry from taking writes safely, said so an operator knows what to fix. */
export interface HealthProblem {
  check: string;
  message: string;
  /** 503 (the registry cannot be written) or 507 (storage is full). */
  status: 503 | 507;
}

/** Cheap and synchronous: run before every write. */
export type IdentityCheck = () => HealthProblem | undefined;
/** May do I/O: run every few seconds. */
export type PeriodicCheck = () => Promise<HealthProblem | undefined>;

/**
 * Whether the registry may take writes. A metadata database deleted or
 * replaced under a running server, a data directory gone, or a disk with
 * less free space than configured: writes are refused with the reason
 * (reads go on), `/readyz` says not ready, the first sight of a problem is
 * logged at error and its end at info. Nothing needs a restart to recover.
 */
export class Health {
  private periodic: HealthProblem[] = [];
  private logged = new Map<string, string>();

  constructor(
    private readonly identity: IdentityCheck[],
    private readonly checks: PeriodicCheck[],
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): () => void {
    const timer = setInterval(() => void this.refresh(), intervalMs);
    timer.unref();
    void this.refresh();
    return () => clearInterval(timer);
  }

  async refresh(): Promise<void> {
    const found = await Promise.all(this.checks.map((c) => c().catch((e: unknown) => ({ check: 'health', message: `a health check failed: ${(e as Error).message}`, status: 503 as const }))));
    this.periodic = found.filter((p): p is HealthProblem => p !== undefined);
    this.report();
  }

  problems(): HealthProblem[] {
    return [...this.identity.map((c) => c()).filter((p): p is HealthProblem => p !== undefined), ...this.periodic];
  }

  /**
   * Throws the first problem as an OCI error: the write must not go ahead.
   * A delete frees space, so a full disk does not refuse it.
   */
  refuseWrites(kind: 'write' | 'delete' = 'write'): void {
    const problems = this.problems();
    this.report(problems);
    const p = problems.find((x) => kind === 'write' || x.status !== 507);
    if (p) throw new RegistryError('UNAVAILABLE', `${p.message}; this registry takes no writes until that is fixed`, { status: p.status, headers: { 'Retry-After': '30' } });
  }

  private report(problems = this.problems()): void {
    const now = new Map(problems.map((p) => [p.check, p.message]));
    for (const [check, message] of now) if (this.logged.get(check) !== message) this.logger.error({ check }, `NOT READY: ${message}`);
    for (const check of this.logged.keys()) if (!now.has(check)) this.logger.info({ check }, 'ready again: the problem is gone');
    this.logged = now;
  }
}

/**
 * The file or directory at `path` is still the one that was opened at start:
 * a database deleted under the server keeps answering from its open file,
 * and every write then vanishes with the next restart.
 */
export function sameFile(path: string, what: string): IdentityCheck {
  const first = statSync(path);
  return () => {
    let now;
    try {
      now = statSync(path);
    } catch {
      return { check: what, message: `${what} ${path} was deleted while the server runs`, status: 503 };
    }
    if (now.ino !== first.ino || now.dev !== first.dev) return { check: what, message: `${what} ${path} was replaced while the server runs; restart it to use the new one`, status: 503 };
    return undefined;
  };
}

/** Free space where blobs are written stays above `minFree` bytes. */
export function freeSpace(path: string, minFree: number): PeriodicCheck {
  return async () => {
    const s = await statfs(path);
    const free = s.bavail * s.bsize;
    if (free >= minFree) return undefined;
    return { check: 'disk', message: `storage is full: ${mib(free)} free on ${path}, under storage.filesystem.minFree (${mib(minFree)}); free space or raise the limit`, status: 507 };
  };
}

const mib = (n: number): string => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** Errors that mean the disk (or the database on it) is full. */
export function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
