import { isObject } from '../oci/descriptor.js';

/**
 * The simple-signing payload (containers-signature(5)), in its two dialects:
 * containers/image's `atomic container signature` (GPG, skopeo, podman) and
 * cosign's `cosign container image signature` (cosign's SIGNATURE_SPEC). The
 * signed JSON names the manifest digest: that, never a tag, is what a
 * signature binds.
 */
export const SimpleSigningType = {
  atomic: 'atomic container signature',
  cosign: 'cosign container image signature',
} as const;
export type SimpleSigningType = (typeof SimpleSigningType)[keyof typeof SimpleSigningType];

export interface SimpleSigningPayload {
  type: SimpleSigningType;
  /** The manifest digest the signer approved. */
  digest: string;
  /** The identity the signer claimed (`critical.identity.docker-reference`). */
  reference: string;
  /** Unsigned-by-meaning extras: cosign's `-a key=value` annotations, creator and timestamp. */
  optional: Record<string, unknown> | null;
}

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/** The bytes to sign, in the member order cosign and containers/image write. */
export function payloadBytes(p: SimpleSigningPayload): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': p.reference }, image: { 'docker-manifest-digest': p.digest }, type: p.type },
      optional: p.optional,
    }),
  );
}

/**
 * Parses strictly, as containers-signature(5) asks: the top level and
 * `critical` (with everything in it) may hold exactly the known members, of
 * the right types; `optional` may hold anything. Call only on bytes whose
 * signature verified.
 */
export function parsePayload(bytes: Buffer): SimpleSigningPayload {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new PayloadError('the signed payload is not JSON');
  }
  const obj = exactly(json, ['critical', 'optional'], 'payload', ['optional']);
  const critical = exactly(obj.critical, ['type', 'image', 'identity'], 'critical');
  const image = exactly(critical.image, ['docker-manifest-digest'], 'critical.image');
  const identity = exactly(critical.identity, ['docker-reference'], 'critical.identity');
  const type = critical.type;
  if (type !== SimpleSigningType.atomic && type !== SimpleSigningType.cosign) throw new PayloadError(`critical.type ${JSON.stringify(type)} is not a container signature`);
  const digest = image['docker-manifest-digest'];
  const reference = identity['docker-reference'];
  if (typeof digest !== 'string' || typeof reference !== 'string') throw new PayloadError('docker-manifest-digest and docker-reference must be strings');
  const optional = obj.optional ?? null;
  if (optional !== null && !isObject(optional)) throw new PayloadError('optional must be an object or null');
  return { type, digest, reference, optional };
}

function exactly(v: unknown, keys: string[], where: string, optionalKeys: string[] = []): Record<string, unknown> {
  if (!isObject(v)) throw new PayloadError(`${where} must be an object`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new PayloadError(`${where} has an unknown member "${k.slice(0, 50)}"`);
  for (const k of keys) if (!(k in v) && !optionalKeys.includes(k)) throw new PayloadError(`${where} lacks "${k}"`);
  return v;
}
