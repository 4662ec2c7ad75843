import type { Readable } from 'node:stream';
import type { ImageSink } from './image.js';

/**
 * A sink that keeps nothing: every blob is read to its end (so the source
 * verifies it) and dropped. Copying into it pulls an image through a
 * pull-through cache, which is what warming one means.
 */
export class DiscardSink implements ImageSink {
  readonly description = 'nowhere';
  readonly acceptsIndex = true;
  /** Blobs read, and their bytes. */
  readonly read = { blobs: 0, bytes: 0 };

  async hasBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(_desc: unknown, open: () => Promise<Readable>): Promise<'uploaded'> {
    for await (const chunk of await open()) this.read.bytes += (chunk as Buffer).length;
    this.read.blobs++;
    return 'uploaded';
  }

  async putManifest(): Promise<void> {}
  async commit(): Promise<void> {}
  async abort(): Promise<void> {}
}
