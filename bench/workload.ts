import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from './client.js';

export interface Blob {
  digest: string;
  bytes: Buffer;
}

export interface SmallImage {
  tag: string;
  /** Base layer (shared by every image), unique layer, config. */
  blobs: Blob[];
  manifest: Buffer;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/**
 * `count` distinct blobs of `size` bytes: one random buffer with a per-blob
 * prefix, copied on demand, so only the blobs in flight occupy memory.
 */
export function bigBlobs(count: number, size: number): { blob(i: number): Blob } {
  const base = randomBytes(size);
  const digests: string[] = [];
  const view = (i: number) => {
    const b = Buffer.from(base);
    b.write(`blob-${i.toString().padStart(10, '0')}`, 0, 'latin1');
    return b;
  };
  for (let i = 0; i < count; i++) digests.push(sha256(view(i)));
  return { blob: (i) => ({ digest: digests[i]!, bytes: view(i) }) };
}

function imageManifest(config: Blob, layers: Blob[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.bytes.length })),
    }),
  );
}

const blobOf = (bytes: Buffer): Blob => ({ digest: sha256(bytes), bytes });

/** Small images: one shared base layer, one unique layer, a unique config, tags `t000`... */
export function smallImages(count: number, baseSize: number, layerSize: number): SmallImage[] {
  const base = blobOf(randomBytes(baseSize));
  return Array.from({ length: count }, (_, i) => {
    const layer = blobOf(randomBytes(layerSize));
    const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: [`IMAGE=${i}`] }, rootfs: { type: 'layers', diff_ids: [base.digest, layer.digest] } })));
    return { tag: `t${String(i).padStart(3, '0')}`, blobs: [base, layer, config], manifest: imageManifest(config, [base, layer]) };
  });
}

/** The one config blob and manifest pushed into every catalog repository. */
export function catalogImage(): { config: Blob; manifest: Buffer } {
  const config = blobOf(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
  return { config, manifest: imageManifest(config, []) };
}

/** An OCI layout `dir:v1` built with umoci: `layers` layers of `layerSize` random bytes each. */
export function umociImage(dir: string, layers: number, layerSize: number): string {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:v1`]);
  for (let i = 0; i < layers; i++) {
    rmSync(bundle, { recursive: true, force: true });
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:v1`, bundle]);
    mkdirSync(join(bundle, 'rootfs', 'data'), { recursive: true });
    writeFileSync(join(bundle, 'rootfs', 'data', `layer-${i}.bin`), randomBytes(layerSize));
    execFileSync('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
  }
  rmSync(bundle, { recursive: true, force: true });
  return layout;
}
