import { createHash } from 'node:crypto';

/** Test content made from bytes: blobs, configs, manifests, with their digests. */
export interface Blob {
  digest: string;
  bytes: Buffer;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function sha512(bytes: Buffer | string): string {
  return `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
}

export function blob(content: Buffer | string): Blob {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { digest: sha256(bytes), bytes };
}

export function randomBlob(size: number, seed = Math.random()): Blob {
  const bytes = Buffer.alloc(size);
  let x = Math.floor(seed * 0xffffffff) | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return blob(bytes);
}

export const descriptor = (b: Blob, mediaType: string, extra: Record<string, unknown> = {}) => ({
  mediaType,
  digest: b.digest,
  size: b.bytes.length,
  ...extra,
});

export function imageConfig(arch = 'amd64', os = 'linux'): Blob {
  return blob(JSON.stringify({ architecture: arch, os, rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
}

/** An OCI image manifest over a config and layers; returned as exact bytes plus digest. */
export function imageManifest(config: Blob, layers: Blob[], extra: Record<string, unknown> = {}): Blob {
  return blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: descriptor(config, 'application/vnd.oci.image.config.v1+json'),
      layers: layers.map((l) => descriptor(l, 'application/vnd.oci.image.layer.v1.tar+gzip')),
      ...extra,
    }),
  );
}

export function imageIndex(children: { manifest: Blob; platform?: Record<string, string> }[], extra: Record<string, unknown> = {}): Blob {
  return blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map((c) => descriptor(c.manifest, 'application/vnd.oci.image.manifest.v1+json', c.platform ? { platform: c.platform } : {})),
      ...extra,
    }),
  );
}
