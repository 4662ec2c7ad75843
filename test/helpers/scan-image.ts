import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { layoutWriter, sha256 } from './layout-image.js';

/** One tar entry of a test layer: a file (bytes), a symlink, a hard link, a directory. */
export type LayerEntry =
  | { name: string; content: Buffer | string; mode?: number }
  | { name: string; symlink: string }
  | { name: string; link: string }
  | { name: string; dir: true };

export type Layer = LayerEntry[] | Record<string, Buffer | string>;

const entriesOf = (layer: Layer): LayerEntry[] => (Array.isArray(layer) ? layer : Object.entries(layer).map(([name, content]) => ({ name, content })));

/** The tar bytes of a layer (uncompressed), entries in the given order. */
export async function tarBytes(layer: Layer): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entriesOf(layer)) {
    if ('content' in e) pack.entry({ name: e.name, mode: e.mode ?? 0o644, mtime: new Date(0) }, e.content);
    else if ('symlink' in e) pack.entry({ name: e.name, type: 'symlink', linkname: e.symlink, mtime: new Date(0) });
    else if ('link' in e) pack.entry({ name: e.name, type: 'link', linkname: e.link, mtime: new Date(0) });
    else pack.entry({ name: e.name, type: 'directory', mode: 0o755, mtime: new Date(0) });
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const d of pack) parts.push(d as Buffer);
  return Buffer.concat(parts);
}

export interface ScanImageOptions {
  env?: string[];
  /** One created_by per layer, recorded in the config's history. */
  history?: string[];
  /** Layer blobs to use as they are (already compressed or deliberately broken), by layer index. */
  rawLayers?: Record<number, { bytes: Buffer; diffId: string }>;
}

/**
 * Writes an OCI layout image whose layers are built from entries (gzip),
 * with the Env and history a scan reads from the config. Returns the
 * manifest digest and the layer digests in order.
 */
export async function writeScanImage(dir: string, tag: string, layers: Layer[], opts: ScanImageOptions = {}): Promise<{ digest: string; layers: string[] }> {
  const put = layoutWriter(dir);
  const blobs: { bytes: Buffer; diffId: string }[] = [];
  for (const [i, layer] of layers.entries()) {
    const raw = opts.rawLayers?.[i];
    if (raw) {
      blobs.push(raw);
      continue;
    }
    const plain = await tarBytes(layer);
    blobs.push({ bytes: gzipSync(plain), diffId: sha256(plain) });
  }
  const config = put(
    Buffer.from(
      JSON.stringify({
        created: '2024-01-02T03:04:05Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Env: opts.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: blobs.map((b) => b.diffId) },
        history: (opts.history ?? layers.map((_, i) => `layer ${i + 1}`)).map((created_by) => ({ created: '2024-01-02T03:04:05Z', created_by })),
      }),
    ),
  );
  const layerDescs = blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(b.bytes) }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layerDescs,
    }),
  );
  const m = put(manifest);
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return { digest: m.digest, layers: layerDescs.map((l) => l.digest) };
}

/**
 * A layer holding one file of `size` zero bytes, gzipped as it is made (a
 * few MiB of output for hundreds of MiB of tar): an image whose scan takes
 * a while, to be interrupted.
 */
export async function zeroFileLayer(name: string, size: number): Promise<{ bytes: Buffer; diffId: string }> {
  const pack = tar.pack();
  const diff = createHash('sha256');
  const gzip = createGzip({ level: 1 });
  const parts: Buffer[] = [];
  pack.on('data', (d) => {
    diff.update(d as Buffer);
    gzip.write(d);
  });
  pack.on('end', () => gzip.end());
  gzip.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((r) => gzip.on('end', r));
  const zeros = Buffer.alloc(1 << 20);
  const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
  for (let n = 0; n < size; n += zeros.length) if (!entry.write(zeros.subarray(0, Math.min(zeros.length, size - n)))) await new Promise<void>((r) => entry.once('drain', () => r()));
  entry.end(() => {});
  pack.finalize();
  await done;
  return { bytes: Buffer.concat(parts), diffId: `sha256:${diff.digest('hex')}` };
}

/** Adds an OCI index of manifests already in the layout `dir` (written there by writeScanImage) under `tag`. */
export function writeScanIndex(dir: string, tag: string, children: { digest: string; platform: { os: string; architecture: string } }[]): string {
  const put = layoutWriter(dir);
  const read = (digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)));
  const manifests = children.map((c) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: c.digest, size: read(c.digest).length, platform: c.platform }));
  const index = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
  const layout = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
  layout.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(layout));
  return index.digest;
}
