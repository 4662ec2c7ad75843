import { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { AttachmentStore } from './attachments.js';

/** Manifest bytes exactly as stored: digests are computed over these, never over re-serialised JSON. */
export interface Manifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/**
 * Where images come from: a registry, the local store, an OCI layout, a
 * `docker save` tarball, an OCI archive. `copy` only ever sees this shape.
 */
export interface ImageSource {
  readonly description: string;
  /** The manifest or index the reference names. */
  root(): Promise<Manifest>;
  /** A child manifest of an index. */
  manifest(desc: Descriptor): Promise<Manifest>;
  /**
   * The blob's bytes; the stream errors if they do not match the descriptor.
   * From `offset` on when given (resuming a partial download): then the
   * caller holds the bytes before it and verifies the whole.
   */
  blob(desc: Descriptor, onBytes?: (n: number) => void, offset?: number): Promise<Readable>;
  /** Repositories on `registry` that already hold this blob (cross-repository mount). */
  mountCandidates?(registry: string, desc: Descriptor): Promise<string[]>;
  /** Signatures and referrers next to the image, where the format has a place for them. */
  attachments?(): AttachmentStore;
  close(): Promise<void>;
}

export interface PutBlobOptions {
  mountFrom?: string[];
  onBytes?: (n: number) => void;
}

/** Where images go. Manifests arrive after every blob they reference; `commit` makes the result visible. */
export interface ImageSink {
  readonly description: string;
  /** Formats that hold one image (docker-archive) take a platform, not an index. */
  readonly acceptsIndex: boolean;
  /** The registry this sink writes to, when it is one (for mounts). */
  readonly registry?: string;
  /** The sink reports bytes as they reach the destination (PutBlobOptions.onBytes): progress counts those, not the source's reads. */
  readonly reportsBytes?: boolean;
  hasBlob(desc: Descriptor): Promise<boolean>;
  /** `open(offset)` lets a sink that kept part of the blob from an earlier run ask for the rest only. */
  putBlob(desc: Descriptor, open: (offset?: number) => Promise<Readable>, opts?: PutBlobOptions): Promise<'uploaded' | 'mounted'>;
  /** `root` is the manifest the destination reference names; children go by digest. */
  putManifest(m: Manifest, root: boolean): Promise<void>;
  /** `sourceDigest` is what the source reference named (an index digest when one platform was taken). */
  commit(info: { sourceDigest: Digest }): Promise<void>;
  /** Undo whatever is not yet visible (temp files); safe to call after a failure. */
  abort(): Promise<void>;
  attachments?(): AttachmentStore;
}

/** Passes a stream through, reporting bytes as they go (a 'data' listener would steal them from the consumer). */
export function counting(stream: Readable, onBytes?: (n: number) => void): Readable {
  if (!onBytes) return stream;
  return Readable.from(
    (async function* () {
      for await (const chunk of stream) {
        onBytes((chunk as Buffer).length);
        yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}
