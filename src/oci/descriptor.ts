import { isDigest, type Digest } from './digest.js';
import { RegistryError } from './errors.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** An OCI content descriptor. Unknown fields are kept by the raw manifest bytes, not here. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the fields Berth relies on; `where` names the field in the error. */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const bad = (why: string): never => {
    throw new RegistryError('MANIFEST_INVALID', `${where}: ${why}`);
  };
  if (!isObject(value)) return bad('must be a descriptor object');
  const { mediaType, digest, size, artifactType, annotations, platform, urls } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0) bad('mediaType must be a non-empty string');
  if (typeof digest !== 'string' || !isDigest(digest)) bad(`digest ${JSON.stringify(digest)} is not a valid sha256/sha512 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad('size must be a non-negative integer');
  if (artifactType !== undefined && typeof artifactType !== 'string') bad('artifactType must be a string');
  if (annotations !== undefined && !isStringMap(annotations)) bad('annotations must map strings to strings');
  if (urls !== undefined && !(Array.isArray(urls) && urls.every((u) => typeof u === 'string'))) bad('urls must be strings');
  if (platform !== undefined && !isPlatform(platform)) bad('platform needs string architecture and os');
  return value as unknown as Descriptor;
}

export const isStringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

const isPlatform = (v: unknown): v is Platform =>
  isObject(v) && typeof v.architecture === 'string' && typeof v.os === 'string';
