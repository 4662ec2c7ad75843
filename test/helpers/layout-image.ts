import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A gzip'd tar layer holding the given files, built from bytes. */
export async function tarLayer(files: Record<string, Buffer | string>): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const d of pack) parts.push(d as Buffer);
  const plain = Buffer.concat(parts);
  return { gz: gzipSync(plain), diffId: sha256(plain) };
}

export interface BuiltImage {
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; size: number }[];
  manifest: Buffer;
}

/** Makes `dir` an OCI layout and returns a function that stores a blob in it under its digest. */
export function layoutWriter(dir: string): (b: Buffer) => { digest: string; size: number } {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return (b) => {
    const d = sha256(b);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: b.length };
  };
}

/** Writes an image (config + layers) into an OCI layout under `tag`; layers given as file maps. */
export async function writeLayoutImage(dir: string, tag: string, layerFiles: Record<string, Buffer | string>[], opts: { arch?: string; config?: Record<string, unknown>; author?: string; created?: string; history?: Record<string, unknown>[] } = {}): Promise<BuiltImage> {
  const put = layoutWriter(dir);
  const layers = [];
  for (const files of layerFiles) layers.push(await tarLayer(files));
  const config = Buffer.from(
    JSON.stringify({
      created: opts.created ?? '2024-01-02T03:04:05Z',
      architecture: opts.arch ?? 'amd64',
      os: 'linux',
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config ?? { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      ...(opts.history ? { history: opts.history } : {}),
    }),
  );
  const configDesc = put(config);
  const layerDescs = layers.map((l) => put(l.gz));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers: layerDescs.map((d) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...d })),
    }),
  );
  const m = put(manifest);
  const indexPath = join(dir, 'index.json');
  const index: { manifests: unknown[] } = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests: unknown[] }) : { schemaVersion: 2, manifests: [] } as { manifests: unknown[] };
  index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(indexPath, JSON.stringify(index));
  return { manifestDigest: m.digest, configDigest: configDesc.digest, layers: layerDescs, manifest };
}

/** An OCI image index over images already in the layout, tagged `tag`; each child is { image, arch }. */
export function writeLayoutIndex(dir: string, tag: string, children: { image: BuiltImage; arch: string }[]): { digest: string; bytes: Buffer } {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map(({ image, arch }) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform: { os: 'linux', architecture: arch },
      })),
    }),
  );
  const { digest, size } = layoutWriter(dir)(bytes);
  const indexPath = join(dir, 'index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests: unknown[] };
  index.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest, size, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(indexPath, JSON.stringify(index));
  return { digest, bytes };
}
