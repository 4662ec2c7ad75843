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
 * Basic or Bearer challenges. An OCI error body becomes a RemoteError (so the
 * exit code says not found or denied); a 404 without one means the registry
 * is not a berth serve at all.
 */
export async function getJson<T>(registry: string, path: string, scopes: string[], insecure = false): Promise<T> {
  return (await getJsonPage<T>(registry, path, scopes, insecure)).value;
}

/** Like getJson, with the path of the next page when the answer has a `Link: <...>; rel="next"`. */
export async function getJsonPage<T>(registry: string, path: string, scopes: string[], insecure = false): Promise<{ value: T; next?: string }> {
  const { Http } = await import('../client/http.js');
  const { RegistryClient } = await import('../client/registry.js');
  const { RemoteError } = await import('../client/errors.js');
  const http = new Http({ onNotice: (m) => process.stderr.write(`${m}\n`) });
  try {
    const r = await new RegistryClient(registry, { http, insecure }).request(path, { scopes, headers: { Accept: 'application/json' } });
    const text = await r.text();
    if (r.ok) {
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
      return next ? { value: JSON.parse(text) as T, next } : { value: JSON.parse(text) as T };
    }
    const errors = ociErrors(text);
    if (!errors) {
      if (r.status === 404) throw new Error(`${registry} does not offer Berth's API (${path.split('?', 1)[0]} answered 404): this command works only against a berth serve`);
      throw new RemoteError(`${registry} answered ${r.status}: ${text.slice(0, 300)}`, r.status);
    }
    throw new RemoteError(`${registry} answered ${r.status}: ${errors.map((x) => `${x.code}: ${x.message}`).join('; ')}`, r.status, errors[0]?.code);
  } finally {
    await http.close();
  }
}

function ociErrors(text: string): { code: string; message: string }[] | undefined {
  try {
    const errors = (JSON.parse(text) as { errors?: unknown }).errors;
    return Array.isArray(errors) ? (errors as { code: string; message: string }[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Operator output speaks the config file's binary units. */
export { binarySize as bytes } from '../util/size.js';

export function columns(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [headers, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
