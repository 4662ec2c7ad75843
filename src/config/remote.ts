import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Credential } from '../client/credentials.js';
import { isLoopbackRegistry } from '../oci/reference.js';
import { duration } from './units.js';

/**
 * How Berth logs in to another registry: a username with a password (or a
 * file holding it, to keep secrets out of berth.yaml), or `docker-config`:
 * whatever the server user's `~/.docker/config.json` or credential helper
 * holds for the registry's host, as `docker pull` would find it.
 */
const CredentialsSchema = z.union([
  z.literal('docker-config'),
  z.object({ username: z.string().min(1), password: z.string() }).strict(),
  z.object({ username: z.string().min(1), passwordFile: z.string().min(1) }).strict(),
]);

/**
 * Another registry Berth talks to as a client: a pull-through cache's
 * upstream (`proxy.upstreams`), later a replication target. The URL names
 * the scheme, so nothing is guessed; plain http is for loopback and trusted
 * networks, and never carries credentials off the machine. Schemas of such
 * entries spread these fields and refine with `checkRemote`.
 */
export const remoteRegistryFields = {
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => /^https?:\/\/[^/]+\/?$/.test(u), 'scheme and host only, e.g. https://registry-1.docker.io (the API is always at /v2/)'),
  credentials: CredentialsSchema.optional(),
  tls: z
    .object({
      /** PEM CA certificates to trust on top of the system roots. */
      ca: z.string().min(1).optional(),
      /** Skip certificate verification (a self-signed test registry). */
      insecure: z.boolean().default(false),
    })
    .strict()
    .default({ insecure: false }),
  /** Connecting, the response headers, and any quiet stretch of a body each get this long. */
  timeout: duration.default(30_000),
};

export function checkRemote(r: { url: string; credentials?: unknown }, ctx: z.RefinementCtx): void {
  if (r.credentials === undefined || r.url.startsWith('https:') || isLoopbackRegistry(new URL(r.url).host)) return;
  ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'credentials would cross the network in clear text: use an https:// URL (plain http carries credentials only to a loopback address)' });
}

const remoteRegistry = z.object(remoteRegistryFields);
export type RemoteRegistryConfig = z.output<typeof remoteRegistry>;

/** The host[:port] a remote's URL names, as credential stores key it. */
export const remoteHost = (r: RemoteRegistryConfig): string => new URL(r.url).host;

/**
 * The credential the config gives for a remote: `null` for none (anonymous,
 * never the server user's docker login by accident), `undefined` for the
 * docker config lookup. A password file is read once, at start.
 */
export function remoteCredential(r: RemoteRegistryConfig): Credential | null | undefined {
  const c = r.credentials;
  if (c === undefined) return null;
  if (c === 'docker-config') return undefined;
  if ('password' in c) return { username: c.username, password: c.password };
  return { username: c.username, password: readFileSync(resolve(c.passwordFile), 'utf8').replace(/\r?\n$/, '') };
}
