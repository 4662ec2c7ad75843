import { MediaType, baseMediaType, isIndexType, isManifestType } from './mediatypes.js';
import { RegistryError } from './errors.js';
import { isObject, isStringMap, parseDescriptor, type Descriptor } from './descriptor.js';

/** What the registry needs to know about a manifest; the bytes themselves stay untouched. */
export interface ManifestFacts {
  mediaType: string;
  /** Blobs the manifest needs in the same repository: config and layers. */
  blobs: Descriptor[];
  /** Child manifests of an index. */
  manifests: Descriptor[];
  config?: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  /** The artifact type the referrers API reports for this manifest. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const invalid = (message: string): never => {
  throw new RegistryError('MANIFEST_INVALID', message);
};

/**
 * Parses and validates a pushed manifest. `contentType` is the request's
 * Content-Type; when it names a manifest type it must agree with the body's
 * own `mediaType`, as the image spec requires.
 */
export function parseManifest(bytes: Buffer, contentType?: string): ManifestFacts {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return invalid(`manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) return invalid('manifest must be a JSON object');
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== 'string') return invalid('mediaType must be a string');
  if (declared === MediaType.dockerSchema1 || declared === MediaType.dockerSchema1Signed || json.schemaVersion === 1) {
    return invalid('Docker schema1 manifests are not supported; push schema2 or OCI');
  }
  if (json.schemaVersion !== 2) return invalid('schemaVersion must be 2');

  const mediaType = effectiveMediaType(json, declared, baseMediaType(contentType));
  const facts = isIndexType(mediaType) ? parseIndex(json, mediaType) : parseImage(json, mediaType);
  if (json.subject !== undefined) facts.subject = parseDescriptor(json.subject, 'subject');
  if (json.annotations !== undefined) {
    if (!isStringMap(json.annotations)) return invalid('annotations must map strings to strings');
    facts.annotations = json.annotations;
  }
  return facts;
}

/** What some clients send when they do not name the type; the body's `mediaType` decides then. */
const GENERIC_JSON = 'application/json';

function effectiveMediaType(json: Record<string, unknown>, declared: string | undefined, header: string | undefined): string {
  // Distribution refuses a manifest sent as text/plain (or anything else it cannot read) the same way.
  if (header && !isManifestType(header) && header !== GENERIC_JSON) invalid(`Content-Type "${header.slice(0, 100)}" is not a manifest media type`);
  if (header && isManifestType(header)) {
    if (declared !== undefined && declared !== header) {
      invalid(`mediaType "${declared}" in the manifest does not match Content-Type "${header}"`);
    }
    return header;
  }
  if (declared !== undefined) {
    if (!isManifestType(declared)) invalid(`unsupported manifest mediaType "${declared}"`);
    return declared;
  }
  return Array.isArray(json.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
}

function parseImage(json: Record<string, unknown>, mediaType: string): ManifestFacts {
  if (json.manifests !== undefined) invalid('an image manifest must not have "manifests"');
  const config = parseDescriptor(json.config, 'config');
  const layersRaw = json.layers ?? [];
  if (!Array.isArray(layersRaw)) return invalid('layers must be an array');
  const layers = layersRaw.map((l, i) => parseDescriptor(l, `layers[${i}]`));
  const artifactType = optionalString(json.artifactType, 'artifactType');
  // Non-distributable layers (with `urls`) live elsewhere; the registry must not demand them.
  const blobs = [config, ...layers.filter((l) => !l.urls?.length)];
  return {
    mediaType,
    blobs,
    manifests: [],
    config,
    layers,
    artifactType: artifactType ?? config.mediaType,
  };
}

function parseIndex(json: Record<string, unknown>, mediaType: string): ManifestFacts {
  const raw = json.manifests;
  if (!Array.isArray(raw)) return invalid('an index needs a "manifests" array');
  const manifests = raw.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
  const facts: ManifestFacts = { mediaType, blobs: [], manifests, layers: [] };
  const artifactType = optionalString(json.artifactType, 'artifactType');
  if (artifactType !== undefined) facts.artifactType = artifactType;
  return facts;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') invalid(`${field} must be a string`);
  return v as string;
}
