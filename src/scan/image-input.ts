import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import type { ImageSource } from '../transport/image.js';
import { choosePlatform, hostPlatform, type PlatformSpec } from '../transport/platform.js';
import type { LayerInput } from './walk.js';

/** The parts of an image config a scan reads. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null; Labels?: Record<string, string> | null };
  history?: { created_by?: string; empty_layer?: boolean }[];
}

/** One image (not an index): its manifest digest, config and layers. */
export interface ImageInput extends LayerInput {
  digest: Digest;
  /** The manifest's media type and size: what a referrer's `subject` names. */
  manifestMediaType: string;
  manifestSize: number;
  config: ImageConfig;
}

const MAX_CONFIG_BYTES = 8 << 20;

export class ScanInputError extends Error {
  override readonly name = 'ScanInputError';
}

/** The image a source names; from an index, the one for `platform` (default: this machine's). */
export async function imageInputOf(src: ImageSource, platform: PlatformSpec = hostPlatform()): Promise<ImageInput & { indexDigest?: Digest }> {
  let root = await src.root();
  let indexDigest: Digest | undefined;
  if (isIndexType(root.mediaType)) {
    indexDigest = root.digest;
    root = await src.manifest(choosePlatform(parseManifest(root.bytes, root.mediaType).manifests, platform));
  }
  const facts = parseManifest(root.bytes, root.mediaType);
  if (!facts.config) throw new ScanInputError(`${src.description} is not an image (no config)`);
  if (facts.config.size > MAX_CONFIG_BYTES) throw new ScanInputError(`the image config is ${facts.config.size} bytes, over the ${MAX_CONFIG_BYTES} a scan reads`);
  const config = parseConfig(await readAll(await src.blob(facts.config)));
  return {
    digest: root.digest,
    manifestMediaType: root.mediaType,
    manifestSize: root.bytes.length,
    ...(indexDigest ? { indexDigest } : {}),
    config,
    layers: facts.layers,
    open: async (desc: Descriptor) => src.blob(desc),
  };
}

function parseConfig(bytes: Buffer): ImageConfig {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as ImageConfig;
  } catch {
    // fall through
  }
  throw new ScanInputError('the image config is not a JSON object');
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}
