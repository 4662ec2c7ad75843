import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { digestOf } from '../client/registry.js';
import type { Descriptor } from '../oci/descriptor.js';
import { counting, type ImageSource, type Manifest } from './image.js';

/** A blob an edit adds: bytes in memory (a config) or a file (a layer), served under its digest. */
export type AddedBlob = { desc: Descriptor; bytes: Buffer } | { desc: Descriptor; file: string };

/**
 * An image source with a new root manifest and the few blobs the edit made,
 * everything else read from the original: `copy` then sends only what is new
 * (and mounts the rest where it can), to any sink.
 */
export class EditedSource implements ImageSource {
  readonly description: string;
  private readonly added: Map<string, AddedBlob>;

  constructor(
    private readonly base: ImageSource,
    private readonly edited: Manifest,
    added: AddedBlob[],
  ) {
    this.description = `${base.description} (edited)`;
    this.added = new Map(added.map((a) => [a.desc.digest, a]));
  }

  async root(): Promise<Manifest> {
    return this.edited;
  }

  manifest(desc: Descriptor): Promise<Manifest> {
    return this.base.manifest(desc);
  }

  async blob(desc: Descriptor, onBytes?: (n: number) => void, offset = 0): Promise<Readable> {
    const a = this.added.get(desc.digest);
    if (!a) return this.base.blob(desc, onBytes, offset);
    const stream = 'bytes' in a ? Readable.from([a.bytes.subarray(offset)]) : createReadStream(a.file, { start: offset });
    return counting(stream, onBytes);
  }

  mountCandidates(registry: string, desc: Descriptor): Promise<string[]> {
    return this.added.has(desc.digest) || !this.base.mountCandidates ? Promise.resolve([]) : this.base.mountCandidates(registry, desc);
  }

  close(): Promise<void> {
    return this.base.close();
  }
}

/** The manifest's JSON with a new config (and more layers, annotations), as bytes in the manifest's own type. */
export function editManifest(m: Manifest, edit: (json: ManifestJson) => void): Manifest {
  const json = JSON.parse(m.bytes.toString('utf8')) as ManifestJson;
  edit(json);
  const bytes = Buffer.from(JSON.stringify(json));
  return { bytes, mediaType: m.mediaType, digest: digestOf(bytes) };
}

export interface ManifestJson {
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A config blob from its JSON, of the media type the manifest names for its config. */
export function configBlob(json: unknown, mediaType: string): { desc: Descriptor; bytes: Buffer } {
  const bytes = Buffer.from(JSON.stringify(json));
  return { desc: { mediaType, digest: digestOf(bytes), size: bytes.length }, bytes };
}
