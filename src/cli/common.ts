import type { Command } from 'commander';
import { AuthError } from '../client/token.js';
import { DigestMismatchError, NetworkError, RemoteError } from '../client/errors.js';
import { LayoutError } from '../local/layout.js';
import { AmbiguousImageError } from '../local/resolve.js';
import { ReferenceError } from '../oci/reference.js';
import { KeyFileError } from '../sign/cosign-key.js';
import { SignatureIntegrityError } from '../sign/gather.js';
import { GpgError } from '../sign/gpg.js';
import { PlatformError } from '../transport/platform.js';
import { humanSize } from '../util/size.js';
import { Exit, NotFoundError, UsageError } from './exit.js';

export { Exit, humanSize, NotFoundError, UsageError };

export interface ClientFlags {
  json?: boolean;
  insecure?: boolean;
  caFile?: string;
}

/** The flags every command that talks to registries takes. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'machine-readable output on stdout')
    .option('--insecure', 'allow plain HTTP and unverified TLS (loopback registries may use plain HTTP anyway)')
    .option('--ca-file <pem>', 'trust this CA certificate as well (SSL_CERT_FILE is honoured too)');
}

/** Runs a command body; maps typed errors to one line on stderr and an exit code. */
export function run<A extends unknown[]>(name: string, body: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await body(...args)) ?? Exit.ok;
    } catch (e) {
      reportError(`berth ${name}`, e);
      process.exitCode = exitCodeFor(e);
    }
  };
}

/** One line saying what went wrong; the stack trace only with `--debug`. */
export function reportError(prefix: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${prefix}: ${message}\n`);
  if (process.argv.includes('--debug') && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
}

export function exitCodeFor(e: unknown): number {
  // ConfigError by name: importing the config schema here would load zod for every verb.
  if (e instanceof ReferenceError || e instanceof UsageError || e instanceof AmbiguousImageError || e instanceof PlatformError || e instanceof KeyFileError || e instanceof GpgError || (e instanceof Error && e.name === 'ConfigError')) return Exit.usage;
  if (e instanceof NotFoundError) return Exit.notFound;
  if (e instanceof AuthError) return Exit.auth;
  if (e instanceof NetworkError) return Exit.network;
  if (e instanceof DigestMismatchError || e instanceof SignatureIntegrityError) return Exit.integrity;
  if (e instanceof RemoteError) {
    if (e.status === 401 || e.status === 403) return Exit.auth;
    if (e.status === 404) return Exit.notFound;
  }
  if (e instanceof LayoutError && /^no image/.test(e.message)) return Exit.notFound;
  return Exit.failure;
}

export const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
export const printJson = (value: unknown): boolean => out(JSON.stringify(value, null, 2));

/** Left-aligned columns separated by three spaces, like docker's tables. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ');
  return [line(headers), ...rows.map(line)].join('\n');
}

export const shortId = (digest: string): string => digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);

export function since(date: string | undefined): string {
  if (!date) return 'N/A';
  const s = (Date.now() - Date.parse(date)) / 1000;
  if (!Number.isFinite(s)) return 'N/A';
  const steps: [number, string][] = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'], [Infinity, 'year']];
  let v = Math.max(0, s);
  for (const [n, unit] of steps) {
    if (v < n) {
      const r = Math.floor(v);
      return `${r} ${unit}${r === 1 ? '' : 's'} ago`;
    }
    v /= n;
  }
  return 'N/A';
}
