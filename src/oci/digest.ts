import { RegistryError } from './errors.js';

export type Algorithm = 'sha256' | 'sha512';

/** A validated `algorithm:hex` content address. Only `parseDigest` makes one. */
export type Digest = string & { readonly __brand: 'Digest' };

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;
// The general grammar of the image spec; used to tell "malformed" from "unsupported".
const GRAMMAR_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(value: string): value is Digest {
  const m = DIGEST_RE.exec(value);
  return m !== null && m[2]!.length === HEX_LENGTH[m[1] as Algorithm];
}

/** Validates before anything touches disk: a digest is also a path component. */
export function parseDigest(value: string): Digest {
  if (isDigest(value)) return value;
  const why = GRAMMAR_RE.test(value)
    ? 'only sha256 and sha512 with lowercase hex of the right length are supported'
    : 'expected algorithm:hex';
  throw new RegistryError('DIGEST_INVALID', `invalid digest "${truncate(value)}": ${why}`);
}

export const algorithmOf = (d: Digest): Algorithm => d.slice(0, d.indexOf(':')) as Algorithm;
export const hexOf = (d: Digest): string => d.slice(d.indexOf(':') + 1);
export const makeDigest = (alg: Algorithm, hex: string): Digest => parseDigest(`${alg}:${hex}`);

function truncate(s: string): string {
  return s.length > 150 ? `${s.slice(0, 150)}…` : s;
}
