import type { Command } from 'commander';
import { AuthError } from '../client/token.js';
import { DigestMismatchError, RemoteError } from '../client/errors.js';
import { Http, NetworkError } from '../client/http.js';
import { LayoutError } from '../local/layout.js';
import { LocalStore } from '../local/store.js';
import { ReferenceError } from '../oci/reference.js';
import { KeyFileError } from '../sign/cosign-key.js';
import { SignatureIntegrityError } from '../sign/gather.js';
import { GpgError } from '../sign/gpg.js';
import type { TransportContext } from '../transport/location.js';

/** Exit codes scripts can rely on. */
export const Exit = { ok: 0, failure: 1, usage: 2, notFound: 3, auth: 4, network: 5, integrity: 6, unsigned: 7, untrusted: 8, mismatch: 9 } as const;

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

export function context(flags: ClientFlags): TransportContext {
  const http = new Http({
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    skipTlsVerify: flags.insecure ?? false,
    onNotice: (m) => process.stderr.write(`${m}\n`),
  });
  return { http, store: new LocalStore(), insecure: flags.insecure ?? false };
}

/** Runs a command body; maps typed errors to a message and an exit code. */
export function run<A extends unknown[]>(name: string, body: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await body(...args)) ?? Exit.ok;
    } catch (e) {
      process.stderr.write(`berth ${name}: ${(e as Error).message}\n`);
      process.exitCode = exitCodeFor(e);
    }
  };
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof ReferenceError || e instanceof KeyFileError || e instanceof GpgError) return Exit.usage;
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

/** docker's units: 1 kB = 1000 B. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${n}B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)}${units[i]}`;
}

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
