import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireS3pg, TEST_BACKEND } from '../helpers/backends.js';
import { tempDir, type BerthServer } from '../helpers/berth.js';
import { berth as runBerth, type CliResult } from '../helpers/cli.js';
import { imageConfig, imageManifest, type Blob } from '../helpers/oci.js';
import type { Raw } from '../helpers/registry-client.js';

export interface Image {
  repo: string;
  tag: string;
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

export function makeImage(repo: string, tag: string, layers: Blob[]): Image {
  const config = imageConfig();
  return { repo, tag, config, layers, manifest: imageManifest(config, layers) };
}

/** Pushes like docker and skopeo do: HEAD each blob, upload the missing ones, manifest last. */
export async function pushLikeAClient(api: Raw, img: Image): Promise<{ uploaded: string[] }> {
  const uploaded: string[] = [];
  for (const b of [img.config, ...img.layers]) {
    const head = await api.fetch(`/v2/${img.repo}/blobs/${b.digest}`, { method: 'HEAD' });
    if (head.status === 200) continue;
    if (head.status !== 404) throw new Error(`HEAD ${b.digest} -> ${head.status}`);
    const r = await api.pushBlob(img.repo, b);
    if (r.status !== 201) throw new Error(`blob push ${b.digest} -> ${r.status} ${await r.text()}`);
    uploaded.push(b.digest);
  }
  const r = await api.pushManifest(img.repo, img.tag, img.manifest);
  if (r.status !== 201) throw new Error(`manifest push ${img.repo}:${img.tag} -> ${r.status} ${await r.text()}`);
  return { uploaded };
}

/** Pulls by tag and checks the manifest bytes and every blob's content against its digest. */
export async function pullAndVerify(api: Raw, img: Image): Promise<void> {
  const m = await api.fetch(`/v2/${img.repo}/manifests/${img.tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (m.status !== 200) throw new Error(`pull ${img.repo}:${img.tag} -> ${m.status} ${await m.text()}`);
  const bytes = Buffer.from(await m.arrayBuffer());
  if (!bytes.equals(img.manifest.bytes)) throw new Error(`${img.repo}:${img.tag} serves other manifest bytes`);
  for (const b of [img.config, ...img.layers]) {
    const r = await api.fetch(`/v2/${img.repo}/blobs/${b.digest}`);
    if (r.status !== 200) throw new Error(`blob ${b.digest} of ${img.repo}:${img.tag} -> ${r.status} ${await r.text()}`);
    const got = Buffer.from(await r.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(got).digest('hex')}`;
    if (digest !== b.digest) throw new Error(`blob ${b.digest} of ${img.repo}:${img.tag} hashes to ${digest}`);
  }
}

/** What a `berth gc`/`fsck` beside `server` needs to open the same storage (the s3rver + PostgreSQL suite's env). */
export async function storageEnv(server: BerthServer): Promise<Record<string, string>> {
  return TEST_BACKEND === 's3pg' ? (await acquireS3pg(server.dataDir)).env : {};
}

export const onFilesystem = TEST_BACKEND === 'embedded';

export const berth = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runBerth(args, env);

/** A config file both `berth serve --config` and `berth gc --config` read. */
export function configFile(yaml: string): string {
  const file = join(tempDir('berth-gc-config-'), 'berth.yaml');
  writeFileSync(file, yaml);
  return file;
}

export async function deleteManifest(api: Raw, repo: string, ref: string): Promise<number> {
  const r = await api.fetch(`/v2/${repo}/manifests/${ref}`, { method: 'DELETE' });
  await r.arrayBuffer();
  return r.status;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
