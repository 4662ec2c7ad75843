import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { LayoutError, REF_NAME, type LayoutIndex, type OciLayout } from '../local/layout.js';
import { fetchResumable } from '../local/partials.js';
import { LayoutAttachments } from './layout-attachments.js';
import { counting, type ImageSink, type ImageSource, type Manifest } from './image.js';

/** An image in an OCI layout, chosen by its index entry. */
export class LayoutSource implements ImageSource {
  constructor(
    readonly layout: OciLayout,
    private readonly entry: Descriptor,
    readonly description: string,
  ) {}

  /** `oci:DIR[:tag]`: the entry whose ref.name is the tag, or the only entry when no tag is given. */
  static async open(layout: OciLayout, refName: string | undefined, description: string): Promise<LayoutSource> {
    if (!(await layout.exists())) throw new LayoutError(`${layout.dir} is not an OCI image layout (no oci-layout file)`);
    const { manifests } = await layout.readIndex();
    const matches = refName === undefined ? manifests : manifests.filter((m) => m.annotations?.[REF_NAME] === refName);
    if (matches.length !== 1) {
      const names = manifests.map((m) => m.annotations?.[REF_NAME] ?? m.digest).join(', ');
      throw new LayoutError(
        matches.length === 0
          ? `no image ${refName === undefined ? '' : `"${refName}" `}in ${layout.dir} (it has: ${names || 'nothing'})`
          : `${layout.dir} holds ${matches.length} images (${names}); name one as oci:DIR:NAME`,
      );
    }
    return new LayoutSource(layout, matches[0]!, description);
  }

  root(): Promise<Manifest> {
    return this.manifest(this.entry);
  }

  async manifest(desc: Descriptor): Promise<Manifest> {
    return { bytes: await this.layout.readSmallBlob(desc.digest), mediaType: desc.mediaType, digest: desc.digest };
  }

  async blob(desc: Descriptor, onBytes?: (n: number) => void, offset = 0): Promise<Readable> {
    return counting(this.layout.readBlob(desc.digest, offset), onBytes);
  }

  attachments(): LayoutAttachments {
    return new LayoutAttachments(this.layout, (tag) => tag, this.description);
  }

  async close(): Promise<void> {}
}

export interface LayoutSinkOptions {
  /** The index entry's `org.opencontainers.image.ref.name`; entries with the same name are replaced. */
  refName?: string;
  annotations?: Record<string, string>;
  /** Record the source's digest under this annotation (the local store keeps the registry's digest). */
  sourceDigestAnnotation?: string;
  /** The index name of an attachment tag (`sha256-<hex>.sig`); the tag itself unless the layout names by reference. */
  attachmentName?: (tag: string) => string;
  /** Puts the named entry into the index, instead of replacing entries of the same name (the local store keeps what it displaces). */
  place?: (index: LayoutIndex, entry: Descriptor, name: string) => void;
}

/** Writes into an OCI layout; the index entry appears only at commit, under the layout's lock. */
export class LayoutSink implements ImageSink {
  readonly acceptsIndex = true;
  private rootDesc?: Descriptor;
  private readonly needed = new Set<Descriptor>();

  constructor(
    readonly layout: OciLayout,
    private readonly opts: LayoutSinkOptions,
    readonly description: string,
  ) {}

  async hasBlob(desc: Descriptor): Promise<boolean> {
    await this.layout.init();
    this.needed.add(desc);
    return this.layout.hasBlob(desc);
  }

  async putBlob(desc: Descriptor, open: (offset?: number) => Promise<Readable>): Promise<'uploaded'> {
    await fetchResumable(this.layout, desc, open);
    return 'uploaded';
  }

  async putManifest(m: Manifest, root: boolean): Promise<void> {
    if (!(await this.layout.hasBlob({ digest: m.digest, size: m.bytes.length }))) await this.layout.writeSmallBlob(m.bytes, m.digest);
    const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    this.needed.add(desc);
    if (root) this.rootDesc = desc;
  }

  async commit(info: { sourceDigest: Digest }): Promise<void> {
    const root = this.rootDesc;
    if (!root) throw new LayoutError('nothing to commit: no manifest was written');
    const annotations: Record<string, string> = { ...this.opts.annotations };
    if (this.opts.refName) annotations[REF_NAME] = this.opts.refName;
    if (this.opts.sourceDigestAnnotation) annotations[this.opts.sourceDigestAnnotation] = info.sourceDigest;
    await this.layout.updateIndex(async (index) => {
      // Another process may have removed a shared blob between our check and now.
      for (const d of this.needed) {
        if (!(await this.layout.hasBlob(d))) throw new LayoutError(`blob ${d.digest} was removed while this copy ran; run the command again`);
      }
      const entry = Object.keys(annotations).length > 0 ? { ...root, annotations } : root;
      if (this.opts.refName && this.opts.place) return this.opts.place(index, entry, this.opts.refName);
      index.manifests = index.manifests.filter((m) => !this.opts.refName || m.annotations?.[REF_NAME] !== this.opts.refName);
      index.manifests.push(entry);
    });
  }

  async abort(): Promise<void> {}

  attachments(): LayoutAttachments {
    return new LayoutAttachments(this.layout, this.opts.attachmentName ?? ((tag) => tag), this.description);
  }
}
