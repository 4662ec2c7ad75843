import { isObject } from '../oci/descriptor.js';
import { IMAGE_MANIFEST_TYPES, MediaType } from '../oci/mediatypes.js';

const IMAGE_CONFIGS: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);

/** Layers a container runtime unpacks: tar, plain or compressed, distributable or not (OCI and Docker names). */
const TAR_LAYERS: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

/**
 * What the metadata index tells without the manifest: whether it may be an
 * image (for an image manifest the artifact type is its config's media
 * type unless it names one of its own). `isScannableImage` decides.
 */
export function mayBeImage(m: { mediaType: string; artifactType: string | null; subject: string | null }): boolean {
  return IMAGE_MANIFEST_TYPES.has(m.mediaType) && m.subject === null && (m.artifactType === null || IMAGE_CONFIGS.has(m.artifactType));
}

/**
 * Whether a manifest is an image a scan can read and a runtime would run:
 * an image config and tar layers only, no subject, no artifact type. Not:
 * indexes (their children are images of their own), cosign signatures and
 * attestations (an image config over JSON layers), SBOMs and other referrers,
 * Helm charts and other artifacts. Told from the manifest alone.
 */
export function isScannableImage(bytes: Buffer, mediaType: string): boolean {
  if (!IMAGE_MANIFEST_TYPES.has(mediaType)) return false;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return false;
  }
  if (!isObject(json) || json.subject !== undefined || json.artifactType !== undefined) return false;
  const config = isObject(json.config) ? json.config.mediaType : undefined;
  const layers = json.layers ?? [];
  return typeof config === 'string' && IMAGE_CONFIGS.has(config) && Array.isArray(layers) && layers.every((l) => isObject(l) && typeof l.mediaType === 'string' && TAR_LAYERS.has(l.mediaType));
}
