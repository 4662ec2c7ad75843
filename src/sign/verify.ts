import { verify as verifySignature, type KeyObject } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { Digest } from '../oci/digest.js';
import { parseReference, type Reference } from '../oci/reference.js';
import { keyFingerprint } from './cosign-key.js';
import { GpgError, gpgVerify } from './gpg.js';
import { BundleError, verifyBundle } from './sigstore-bundle.js';
import { PayloadError, parsePayload, SimpleSigningType, type SimpleSigningPayload } from './simple-signing.js';

/** A signature as found next to an image, not yet trusted in any way. */
export type FoundSignature =
  | { kind: 'cosign'; where: string; payload: Buffer; signature: string }
  | { kind: 'bundle'; where: string; bundle: Buffer }
  | { kind: 'gpg'; where: string; signature: Buffer };

export interface TrustedKeys {
  cosign: KeyObject[];
  gpg: openpgp.Key[];
}

/** What a signature must say to count: the digest actually resolved, and optionally who and what. */
export interface Expectation {
  digest: Digest;
  /** The reference the user named; its repository (and tag, if the signature names one) must match the claim. */
  reference?: Reference;
  /** cosign annotations (`-a k=v` at signing) that must be present with these values. */
  annotations?: Record<string, string>;
}

export type Outcome = 'valid' | 'bad-signature' | 'digest-mismatch' | 'identity-mismatch' | 'annotation-mismatch' | 'malformed';

export interface SignatureCheck {
  kind: FoundSignature['kind'];
  where: string;
  outcome: Outcome;
  message: string;
  /** The key that verified it (cosign key fingerprint or OpenPGP fingerprint). */
  signer?: string;
  claims?: { digest: string; reference?: string; annotations?: Record<string, unknown>; created?: string };
}

/** Checks every found signature against the keys and the expectation; no signature is trusted before its crypto verified. */
export async function checkSignatures(found: FoundSignature[], keys: TrustedKeys, expect: Expectation): Promise<SignatureCheck[]> {
  const out: SignatureCheck[] = [];
  for (const f of found) out.push(await checkOne(f, keys, expect));
  return out;
}

async function checkOne(f: FoundSignature, keys: TrustedKeys, expect: Expectation): Promise<SignatureCheck> {
  const base = { kind: f.kind, where: f.where };
  try {
    switch (f.kind) {
      case 'cosign': {
        const sig = decodeBase64(f.signature);
        if (!sig) return { ...base, outcome: 'malformed', message: 'the signature annotation is not base64' };
        const key = keys.cosign.find((k) => ecdsaVerifies(f.payload, sig, k));
        if (!key) return { ...base, outcome: 'bad-signature', message: badSignature(keys.cosign.length) };
        return judgePayload(base, keyFingerprint(key), parsePayload(f.payload), SimpleSigningType.cosign, expect);
      }
      case 'bundle': {
        const errors: string[] = [];
        for (const key of keys.cosign) {
          try {
            const claims = await verifyBundle(f.bundle, key);
            return judge(base, keyFingerprint(key), { digests: claims.digests, annotations: claims.annotations }, expect);
          } catch (e) {
            if (!(e instanceof BundleError)) throw e;
            errors.push(e.message);
          }
        }
        const malformed = errors.find((m) => !/does not verify/.test(m));
        return { ...base, outcome: malformed ? 'malformed' : 'bad-signature', message: malformed ?? badSignature(keys.cosign.length) };
      }
      case 'gpg': {
        if (keys.gpg.length === 0) return { ...base, outcome: 'bad-signature', message: 'a GPG signature, and no GPG key was given (--gpg-key)' };
        const v = await gpgVerify(f.signature, keys.gpg);
        const judged = judgePayload(base, v.fingerprint, parsePayload(v.payload), SimpleSigningType.atomic, expect);
        if (v.created && judged.claims) judged.claims.created = v.created.toISOString();
        return judged;
      }
    }
  } catch (e) {
    if (e instanceof GpgError) return { ...base, outcome: 'bad-signature', message: e.message };
    if (e instanceof PayloadError) return { ...base, outcome: 'malformed', message: `signature verified, but its payload is malformed: ${e.message}` };
    throw e;
  }
}

function judgePayload(base: Pick<SignatureCheck, 'kind' | 'where'>, signer: string, p: SimpleSigningPayload, type: SimpleSigningType, expect: Expectation): SignatureCheck {
  if (p.type !== type) return { ...base, signer, outcome: 'malformed', message: `payload type "${p.type}" where "${type}" belongs` };
  const checked = judge(base, signer, { digests: [p.digest], annotations: p.optional ?? {} }, expect);
  checked.claims!.reference = p.reference;
  if (checked.outcome === 'valid' && expect.reference && !identityMatches(p.reference, expect.reference)) {
    return { ...checked, outcome: 'identity-mismatch', message: `signed as "${p.reference}", which is not ${expect.reference.repository}${expect.reference.tag ? `:${expect.reference.tag}` : ''}` };
  }
  return checked;
}

function judge(base: Pick<SignatureCheck, 'kind' | 'where'>, signer: string, c: { digests: string[]; annotations: Record<string, unknown> }, expect: Expectation): SignatureCheck {
  const claims = { digest: c.digests.join(', '), annotations: c.annotations };
  if (!c.digests.includes(expect.digest)) {
    return { ...base, signer, claims, outcome: 'digest-mismatch', message: `valid signature, but for ${claims.digest || 'no digest'}, not ${expect.digest}` };
  }
  for (const [k, v] of Object.entries(expect.annotations ?? {})) {
    if (c.annotations[k] !== v) return { ...base, signer, claims, outcome: 'annotation-mismatch', message: `annotation ${k}=${v} is not among what was signed` };
  }
  return { ...base, signer, claims, outcome: 'valid', message: 'valid' };
}

/**
 * containers/image's default (matchRepoDigestOrExact), without the registry
 * host: a copy moves an image to another registry and keeps its signatures.
 * The repository path must match, and the tag too when both name one.
 */
export function identityMatches(claimed: string, expected: Reference): boolean {
  let ref: Reference;
  try {
    ref = parseReference(claimed, { defaultTag: false });
  } catch {
    return false;
  }
  if (ref.repository !== expected.repository) return false;
  return ref.tag === undefined || expected.tag === undefined || ref.tag === expected.tag;
}

function ecdsaVerifies(payload: Buffer, sig: Buffer, key: KeyObject): boolean {
  try {
    return verifySignature('sha256', payload, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

function decodeBase64(s: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0 ? Buffer.from(s, 'base64') : undefined;
}

const badSignature = (keys: number) => (keys === 0 ? 'a cosign signature, and no cosign key was given (--key)' : 'the signature does not verify with the given key (signed with another key, or the payload was altered)');
