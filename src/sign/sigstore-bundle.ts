import { sign, verify, type KeyObject } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import type { Descriptor } from '../oci/descriptor.js';
import { isObject } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { artifactManifest, blobOf, type BuiltArtifact } from './artifact.js';
import { keyHint } from './cosign-key.js';
import { COSIGN_SIGN_PREDICATE, CREATED_ANNOTATION, IN_TOTO_STATEMENT_V1, SignatureMediaType } from './media-types.js';

/**
 * The signature newer cosign (`--new-bundle-format`) attaches as an OCI 1.1
 * referrer: a Sigstore bundle v0.3 holding a DSSE envelope over an in-toto
 * statement whose subject is the image digest and whose predicate type is
 * `https://sigstore.dev/cosign/sign/v1`. Key-based: the verification material
 * is the public key's hint, no certificate and no transparency log entry.
 */

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

export interface BundleClaims {
  /** `algorithm:hex` of every statement subject. */
  digests: string[];
  annotations: Record<string, unknown>;
  /** The hint the bundle names its key by. */
  hint: string;
}

/** DSSE's pre-authentication encoding: what the signature covers. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function statement(digest: Digest, annotations: Record<string, string>): Buffer {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const subject: Record<string, unknown> = { digest: { [algorithm]: hex } };
  if (Object.keys(annotations).length > 0) subject.annotations = annotations;
  return Buffer.from(JSON.stringify({ _type: IN_TOTO_STATEMENT_V1, subject: [subject], predicateType: COSIGN_SIGN_PREDICATE, predicate: {} }));
}

/** A signed bundle for `digest`, as JSON bytes. */
export async function signBundle(digest: Digest, privateKey: KeyObject, publicKey: KeyObject, annotations: Record<string, string>): Promise<Buffer> {
  const { bundleToJSON, toDSSEBundle } = await import('@sigstore/bundle');
  const artifact = statement(digest, annotations);
  const signature = sign('sha256', pae(SignatureMediaType.inToto, artifact), { key: privateKey, dsaEncoding: 'der' });
  const bundle = toDSSEBundle({ artifact, artifactType: SignatureMediaType.inToto, signature, keyHint: keyHint(publicKey) });
  return Buffer.from(JSON.stringify(bundleToJSON(bundle)));
}

/** The referrer manifest cosign pushes for a bundle (pkg/oci/remote WriteAttestationNewBundleFormat). */
export function bundleReferrer(bundle: Buffer, subject: Descriptor, now: Date): BuiltArtifact {
  return artifactManifest(SignatureMediaType.bundleV03, [blobOf(bundle, SignatureMediaType.bundleV03)], subject, {
    [CREATED_ANNOTATION]: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE,
  });
}

/**
 * Checks the envelope's signature with `publicKey` and only then reads the
 * statement. Throws BundleError for anything malformed or not verifying.
 */
export async function verifyBundle(bytes: Buffer, publicKey: KeyObject): Promise<BundleClaims> {
  const { bundleFromJSON } = await import('@sigstore/bundle');
  let bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(bytes.toString('utf8')) as SerializedBundle);
  } catch (e) {
    throw new BundleError(`not a valid Sigstore bundle: ${(e as Error).message}`);
  }
  if (bundle.content.$case !== 'dsseEnvelope') throw new BundleError('the bundle holds a message signature, not the DSSE envelope cosign signs images with');
  const env = bundle.content.dsseEnvelope;
  const material = bundle.verificationMaterial.content;
  const hint = material.$case === 'publicKey' ? material.publicKey.hint : '';
  if (env.payloadType !== SignatureMediaType.inToto) throw new BundleError(`payload type ${env.payloadType} is not an in-toto statement`);
  const signed = env.signatures.some((s) => verify('sha256', pae(env.payloadType, env.payload), { key: publicKey, dsaEncoding: 'der' }, s.sig));
  if (!signed) throw new BundleError('the bundle signature does not verify with this key (signed with another key, or altered)');
  return { ...claims(env.payload), hint };
}

function claims(payload: Buffer): Omit<BundleClaims, 'hint'> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new BundleError('the signed statement is not JSON');
  }
  if (!isObject(json) || json._type !== IN_TOTO_STATEMENT_V1 || !Array.isArray(json.subject)) throw new BundleError('the signed payload is not an in-toto v1 statement');
  if (json.predicateType !== COSIGN_SIGN_PREDICATE) throw new BundleError(`predicate type ${String(json.predicateType)} is not a cosign image signature`);
  const digests: string[] = [];
  let annotations: Record<string, unknown> = {};
  for (const s of json.subject) {
    if (!isObject(s) || !isObject(s.digest)) continue;
    for (const [alg, hex] of Object.entries(s.digest)) digests.push(`${alg}:${String(hex)}`);
    if (isObject(s.annotations)) annotations = { ...annotations, ...s.annotations };
  }
  return { digests, annotations };
}
