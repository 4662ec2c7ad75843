import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { OciLayout } from '../local/layout.js';
import type { ImageSink, ImageSource, Manifest } from './image.js';
import { LayoutSink, LayoutSource } from './layout.js';
import { checkWritable, extractTar, packTar } from './tar.js';

/** A tarred OCI layout: read by unpacking to a temp dir, written by packing one. */
export class OciArchiveSource implements ImageSource {
  private constructor(
    private readonly inner: LayoutSource,
    private readonly dir: string,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  static async open(file: string, refName: string | undefined): Promise<OciArchiveSource> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-oci-archive-'));
    try {
      await extractTar(file, dir);
      return new OciArchiveSource(await LayoutSource.open(new OciLayout(dir), refName, `oci-archive:${file}`), dir);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  root(): Promise<Manifest> {
    return this.inner.root();
  }
  manifest(desc: Descriptor): Promise<Manifest> {
    return this.inner.manifest(desc);
  }
  blob(desc: Descriptor, onBytes?: (n: number) => void, offset?: number): Promise<Readable> {
    return this.inner.blob(desc, onBytes, offset);
  }
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export class OciArchiveSink implements ImageSink {
  readonly acceptsIndex = true;
  private constructor(
    private readonly inner: LayoutSink,
    private readonly dir: string,
    private readonly file: string,
  ) {}

  get description(): string {
    return `oci-archive:${this.file}`;
  }

  static async create(file: string, refName: string | undefined): Promise<OciArchiveSink> {
    await checkWritable(file);
    const dir = await mkdtemp(join(tmpdir(), 'berth-oci-archive-'));
    const layout = new OciLayout(dir);
    await layout.init();
    return new OciArchiveSink(new LayoutSink(layout, refName ? { refName } : {}, `oci-archive:${file}`), dir, file);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.inner.hasBlob(desc);
  }
  putBlob(desc: Descriptor, open: (offset?: number) => Promise<Readable>): Promise<'uploaded'> {
    return this.inner.putBlob(desc, open);
  }
  putManifest(m: Manifest, root: boolean): Promise<void> {
    return this.inner.putManifest(m, root);
  }

  async commit(info: { sourceDigest: Digest }): Promise<void> {
    await this.inner.commit(info);
    const files = (await readdir(this.dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.endsWith('.lock'))
      .map((e) => join(e.parentPath ?? e.path, e.name))
      .filter((p) => !relative(this.dir, p).startsWith(join('blobs', '.tmp')));
    await packTar(this.file, files.map((path) => ({ name: relative(this.dir, path), path })));
    await this.abort();
  }

  async abort(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
