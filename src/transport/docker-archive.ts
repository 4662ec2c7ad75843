import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/mediatypes.js';
import { familiarReference, formatReference, parseReference } from '../oci/reference.js';
import { OciLayout } from '../local/layout.js';
import { digestOf } from '../client/registry.js';
import { counting, type ImageSink, type ImageSource, type Manifest } from './image.js';
import { checkWritable, extractTar, packTar } from './tar.js';

/** One entry of a `docker save` manifest.json. */
export interface SaveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

/** An image of a `docker save` tarball (see extractArchive). */
export class DockerArchiveSource implements ImageSource {
  private constructor(
    private readonly archive: ExtractedArchive,
    private readonly rootManifest: Manifest,
    private readonly files: Map<Digest, string>,
    readonly description: string,
    /** Whether closing this source removes the extracted archive (not when several images of it are read). */
    private readonly owner: boolean,
  ) {}

  static async open(file: string, ref: string | undefined): Promise<DockerArchiveSource> {
    const archive = await extractArchive(file);
    try {
      return await DockerArchiveSource.of(archive, pickEntry(archive.entries, ref, file), true);
    } catch (e) {
      await archive.remove();
      throw e;
    }
  }

  /** One image of an extracted archive; `owner` hands the archive's removal to this source's close. */
  static async of(archive: ExtractedArchive, entry: SaveEntry, owner = false): Promise<DockerArchiveSource> {
    const files = new Map<Digest, string>();
    const add = async (name: string, mediaType: string): Promise<Descriptor> => {
      const path = join(archive.dir, name);
      const digest = await hashFile(path);
      files.set(digest, path);
      const gz = mediaType === LAYER_TAR && (await isGzip(path));
      return { mediaType: gz ? MediaType.ociLayerTarGzip : mediaType, digest, size: (await stat(path)).size };
    };
    const config = await add(entry.Config, MediaType.ociConfig);
    const layers: Descriptor[] = [];
    for (const l of entry.Layers) layers.push(await add(l, LAYER_TAR));
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }));
    return new DockerArchiveSource(archive, { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) }, files, `docker-archive:${archive.file}`, owner);
  }

  async root(): Promise<Manifest> {
    return this.rootManifest;
  }

  async manifest(desc: Descriptor): Promise<Manifest> {
    throw new Error(`a docker-archive holds no manifest ${desc.digest}`);
  }

  async blob(desc: Descriptor, onBytes?: (n: number) => void, offset = 0): Promise<Readable> {
    const path = this.files.get(desc.digest);
    if (!path) throw new Error(`blob ${desc.digest} is not in ${this.description}`);
    return counting(createReadStream(path, { start: offset }), onBytes);
  }

  async close(): Promise<void> {
    if (this.owner) await this.archive.remove();
  }
}

/** A `docker save` tarball unpacked to a temp dir: a tar reads front to back only, and manifest.json may come last. */
export interface ExtractedArchive {
  file: string;
  dir: string;
  entries: SaveEntry[];
  remove(): Promise<void>;
}

export async function extractArchive(file: string): Promise<ExtractedArchive> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-docker-archive-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await extractTar(file, dir);
    const entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => {
      throw new Error(`${file} is not a docker-archive: it has no manifest.json`);
    })) as SaveEntry[];
    if (!Array.isArray(entries)) throw new Error(`${file} is not a docker-archive: its manifest.json is no list of images`);
    return { file, dir, entries, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

function pickEntry(entries: SaveEntry[], ref: string | undefined, file: string): SaveEntry {
  if (ref === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new Error(`${file} holds ${entries.length} images; name one as docker-archive:${file}:NAME:TAG`);
  }
  const want = formatReference(parseReference(ref));
  const found = entries.find((e) => (e.RepoTags ?? []).some((t) => formatReference(parseReference(t)) === want));
  if (!found) throw new Error(`${file} has no image tagged ${ref}`);
  return found;
}

/**
 * Writes the `docker save` format that `docker load` and `skopeo copy
 * docker-archive:` read: manifest.json, `<config hex>.json`, and each layer
 * uncompressed as `<diff id hex>.tar` (the config's rootfs.diff_ids).
 */
export class DockerArchiveSink implements ImageSink {
  readonly acceptsIndex = false;
  private readonly staging: OciLayout;
  private root?: Manifest;

  private constructor(
    private readonly file: string,
    private readonly tag: string | undefined,
    private readonly dir: string,
    readonly description: string,
  ) {
    this.staging = new OciLayout(dir);
  }

  static async create(file: string, tag: string | undefined): Promise<DockerArchiveSink> {
    await checkWritable(file);
    const dir = await mkdtemp(join(tmpdir(), 'berth-docker-save-'));
    return new DockerArchiveSink(file, tag, dir, `docker-archive:${file}`);
  }

  async hasBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(desc: Descriptor, openBlob: () => Promise<Readable>): Promise<'uploaded'> {
    await this.staging.init();
    await this.staging.writeBlob(desc, await openBlob());
    return 'uploaded';
  }

  async putManifest(m: Manifest, root: boolean): Promise<void> {
    if (root) this.root = m;
  }

  async commit(): Promise<void> {
    if (!this.root) throw new Error('nothing to write: no manifest');
    const facts = parseManifest(this.root.bytes, this.root.mediaType);
    const config = facts.config!;
    const files = [{ name: `${config.digest.slice(7)}.json`, path: this.staging.blobPath(config.digest) }];
    const layerNames: string[] = [];
    for (const layer of facts.layers) {
      const src = this.staging.blobPath(layer.digest);
      const plain = join(this.dir, `layer-${layerNames.length}.tar`);
      const diffId = await decompressTo(src, plain);
      const name = `${diffId.slice(7)}.tar`;
      layerNames.push(name);
      files.push({ name, path: plain });
    }
    const manifestJson = join(this.dir, 'manifest.json');
    const entry: SaveEntry = { Config: files[0]!.name, RepoTags: this.tag ? [familiarReference(parseReference(this.tag))] : [], Layers: layerNames };
    await writeFile(manifestJson, JSON.stringify([entry]));
    files.push({ name: 'manifest.json', path: manifestJson });
    await packTar(this.file, files);
    await this.abort();
  }

  async abort(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function hashFile(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}` as Digest;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Writes the uncompressed layer and returns its digest: the diff id docker names it by. */
export async function decompressTo(src: string, dest: string): Promise<Digest> {
  const hash = createHash('sha256');
  const gz = await isGzip(src);
  const hashing = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  };
  if (gz) await pipeline(createReadStream(src), createGunzip(), hashing, createWriteStream(dest));
  else await pipeline(createReadStream(src), hashing, createWriteStream(dest));
  return `sha256:${hash.digest('hex')}` as Digest;
}
