import assert from 'node:assert/strict';
import { sha256 } from './oci.js';

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Pulled {
  digest: string;
  /** Config and layer digests, each verified against the bytes received. */
  blobs: string[];
}

/**
 * A pull the way docker does it over the raw API: the manifest by tag, then
 * every blob it names, each body read to the end and hashed. Throws when
 * anything is refused, cut short, or not what its digest says.
 */
export async function rawPull(base: string, repo: string, tag: string, headers: Record<string, string> = {}): Promise<Pulled> {
  const m = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { Accept: ACCEPT, ...headers } });
  const bytes = Buffer.from(await m.arrayBuffer());
  assert.equal(m.status, 200, `manifest ${repo}:${tag}: ${bytes.toString()}`);
  const digest = sha256(bytes);
  assert.equal(m.headers.get('docker-content-digest'), digest);
  const manifest = JSON.parse(bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  await Promise.all(blobs.map((d) => pullBlob(base, repo, d, headers)));
  return { digest, blobs };
}

export async function pullBlob(base: string, repo: string, digest: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const r = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { headers });
  const body = Buffer.from(await r.arrayBuffer());
  assert.equal(r.status, 200, `blob ${digest}: ${body.subarray(0, 300).toString()}`);
  assert.equal(sha256(body), digest, `blob ${digest} arrived intact`);
  return body;
}
