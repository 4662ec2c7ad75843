import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import { identifierOf, withIdentifier, type Reference } from '../oci/reference.js';
import type { RegistryClient } from '../client/registry.js';
import type { LocalStore } from '../local/store.js';
import { reposHolding } from './local.js';
import { RegistryAttachments } from './registry-attachments.js';
import type { ImageSink, ImageSource, Manifest, PutBlobOptions } from './image.js';

export class RemoteSource implements ImageSource {
  readonly description: string;
  constructor(
    readonly client: RegistryClient,
    readonly ref: Reference,
    /** What the local store knows of other registries' repositories. */
    private readonly store?: LocalStore,
  ) {
    this.description = withIdentifier(`${ref.registry}/${ref.repository}`, identifierOf(ref));
  }

  root(): Promise<Manifest> {
    return this.client.getManifest(this.ref.repository, identifierOf(this.ref));
  }

  manifest(desc: Descriptor): Promise<Manifest> {
    return this.client.getManifest(this.ref.repository, desc.digest);
  }

  async blob(desc: Descriptor, onBytes?: (n: number) => void, offset = 0): Promise<Readable> {
    return this.client.openBlob(this.ref.repository, desc, onBytes, offset);
  }

  /** The source repository on the same registry; on another, the repositories the local store has seen holding the blob there. */
  async mountCandidates(registry: string, desc: Descriptor): Promise<string[]> {
    if (registry === this.ref.registry) return [this.ref.repository];
    return this.store ? reposHolding(this.store, registry, desc) : [];
  }

  attachments(): RegistryAttachments {
    return new RegistryAttachments(this.client, this.ref.repository);
  }

  async close(): Promise<void> {}
}

export class RemoteSink implements ImageSink {
  readonly description: string;
  readonly acceptsIndex = true;
  readonly reportsBytes = true;
  readonly registry: string;

  constructor(
    readonly client: RegistryClient,
    readonly ref: Reference,
  ) {
    this.description = `${ref.registry}/${ref.repository}`;
    this.registry = ref.registry;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.client.hasBlob(this.ref.repository, desc.digest);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>, opts: PutBlobOptions = {}): Promise<'uploaded' | 'mounted'> {
    let reported = 0;
    return this.client.pushBlob(this.ref.repository, desc, open, {
      mountFrom: opts.mountFrom ?? [],
      onProgress: (sent) => {
        opts.onBytes?.(sent - reported);
        reported = sent;
      },
    });
  }

  async putManifest(m: Manifest, root: boolean): Promise<void> {
    const target = root ? (this.ref.tag ?? m.digest) : m.digest;
    await this.client.putManifest(this.ref.repository, target, m);
  }

  async commit(): Promise<void> {}
  async abort(): Promise<void> {}

  attachments(): RegistryAttachments {
    return new RegistryAttachments(this.client, this.ref.repository);
  }
}
