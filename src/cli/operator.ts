import type { Command } from 'commander';

/** Helpers of the operator commands (gc, fsck, usage, history) that load nothing heavy, so every verb starts fast. */

export interface LocalFlags {
  config?: string;
  data?: string;
}

/** The flags of operator commands that open a registry's storage directly, beside a running `berth serve`. */
export function localOptions(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'the YAML config `berth serve` uses').option('--data <dir>', 'data directory (data), as for berth serve');
}

/**
 * GETs Berth's JSON API the way every client verb talks to a registry:
 * https or loopback http, and the credentials `berth login` stored, answering
 * Basic or Bearer challenges. An OCI error body's message becomes the error.
 */
export async function getJson<T>(registry: string, path: string, scopes: string[], insecure = false): Promise<T> {
  return (await getJsonPage<T>(registry, path, scopes, insecure)).value;
}

/** Like getJson, with the path of the next page when the answer has a `Link: <...>; rel="next"`. */
export async function getJsonPage<T>(registry: string, path: string, scopes: string[], insecure = false): Promise<{ value: T; next?: string }> {
  const { Http } = await import('../client/http.js');
  const { RegistryClient } = await import('../client/registry.js');
  const client = new RegistryClient(registry, { http: new Http({ onNotice: (m) => process.stderr.write(`${m}\n`) }), insecure });
  const r = await client.request(path, { scopes, headers: { Accept: 'application/json' } });
  const text = await r.text();
  if (!r.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors.map((x) => `${x.code}: ${x.message}`).join('; ');
    } catch {
      // not an OCI error body: show it as it came
    }
    throw new Error(`${registry} answered ${r.status}: ${message}`);
  }
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
  return next ? { value: JSON.parse(text) as T, next } : { value: JSON.parse(text) as T };
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
