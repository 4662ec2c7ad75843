import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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
