import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blob, imageConfig, imageManifest, type Blob } from '../helpers/oci.js';

/** An htpasswd file written by Debian's `htpasswd -B` (apache2-utils), as users make one. */
export function htpasswdFile(dir: string, users: Record<string, string>): string {
  const path = join(dir, 'htpasswd');
  const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export const basic = (user: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

export interface TokenResponse {
  status: number;
  token?: string;
  refresh_token?: string;
  access?: { type: string; name: string; actions: string[] }[];
  headers: Headers;
  body: Record<string, unknown>;
}

/** GET /auth/token with Basic credentials (or none) and `scope` params, as docker does. */
export async function getToken(url: string, opts: { user?: string; password?: string; scopes?: string[]; offline?: boolean; service?: string } = {}): Promise<TokenResponse> {
  const u = new URL('/auth/token', url);
  u.searchParams.set('service', opts.service ?? 'berth');
  for (const s of opts.scopes ?? []) u.searchParams.append('scope', s);
  if (opts.offline) u.searchParams.set('offline_token', 'true');
  const res = await fetch(u, { headers: opts.user !== undefined ? basic(opts.user, opts.password ?? '') : {} });
  const body = (await res.json()) as Record<string, unknown>;
  const token = body.token as string | undefined;
  return { status: res.status, token, refresh_token: body.refresh_token as string | undefined, access: token ? claims(token).access as TokenResponse['access'] : undefined, headers: res.headers, body };
}

export function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** A one-layer image made from bytes: push its blobs (monolithic) and manifest with `headers`; returns each status. */
export function smallImage(seed: string): { blobs: Blob[]; manifest: Blob } {
  const layer = blob(`layer ${seed}\n`);
  const config = imageConfig();
  return { blobs: [config, layer], manifest: imageManifest(config, [layer]) };
}

export async function pushImage(url: string, repo: string, ref: string, headers: Record<string, string>, image = smallImage(repo)): Promise<number[]> {
  const statuses: number[] = [];
  for (const b of image.blobs) {
    const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.bytes as unknown as BodyInit, headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  const r = await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body: image.manifest.bytes as unknown as BodyInit,
    headers: { ...headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  await r.arrayBuffer();
  statuses.push(r.status);
  return statuses;
}

/** The OCI error code and the challenge of a refused response. */
export async function refusal(res: Response): Promise<{ status: number; code: string | undefined; challenge: string | null }> {
  const text = await res.text();
  const code = text ? (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code : undefined;
  return { status: res.status, code, challenge: res.headers.get('www-authenticate') };
}
