import type { Command } from 'commander';
import { Metadata } from '../meta/metadata.js';
import { RegistryContext } from '../registry/context.js';
import { StoragePolicy } from '../registry/policy.js';
import { openBackends } from '../server/backends.js';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { policySettings } from '../server/storage-config.js';

export interface LocalFlags {
  config?: string;
  data?: string;
}

/** The flags of operator commands that open a registry's storage directly, beside a running `berth serve`. */
export function localOptions(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'the YAML config `berth serve` uses').option('--data <dir>', 'data directory (data), as for berth serve');
}

/** Opens the store and metadata a `berth serve` with the same flags would use. */
export async function openLocalRegistry(name: string, flags: LocalFlags): Promise<{ ctx: RegistryContext; config: Config; close: () => Promise<void> }> {
  let config: Config;
  try {
    config = loadConfig({ file: flags.config, overrides: { data: flags.data } });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`berth ${name}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { store, metaDb } = await openBackends(config);
  const ctx = new RegistryContext(store, new Metadata(metaDb.db), {
    maxManifestBytes: config.limits.maxManifestSize,
    maxListEntries: config.limits.maxListEntries,
    uploadExpiryMs: config.uploads.expiry,
  });
  ctx.policy = new StoragePolicy(policySettings(config));
  return { ctx, config, close: () => metaDb.close() };
}

/** `--registry` as a base URL: loopback hosts speak plain HTTP, others HTTPS unless a scheme is given. */
export function registryUrl(value: string): string {
  if (/^https?:\/\//.test(value)) return value.replace(/\/+$/, '');
  const host = value.replace(/\/+$/, '');
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** GETs Berth's JSON API; an error body's message becomes the thrown error. */
export async function getJson<T>(base: string, path: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(`${base}${path}`, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new Error(`cannot reach ${base}: ${((e as Error).cause as Error)?.message ?? (e as Error).message}; is berth serve running there? (--registry)`);
  }
  const text = await r.text();
  if (!r.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors.map((x) => `${x.code}: ${x.message}`).join('; ');
    } catch {
      // not an OCI error body: show it as it came
    }
    throw new Error(`${base} answered ${r.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function columns(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [headers, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
