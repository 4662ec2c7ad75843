import { MediaType } from '../oci/mediatypes.js';

/** Media types, annotation keys and tag forms of the signature formats Berth reads and writes. */
export const SignatureMediaType = {
  /** cosign's simple-signing payload layer (SIGNATURE_SPEC). */
  cosignPayload: 'application/vnd.dev.cosign.simplesigning.v1+json',
  /** Sigstore bundle v0.3, as layer and artifact type of a cosign referrer. */
  bundleV03: MediaType.sigstoreBundleV03,
  /** cosign attestations (`.att`): DSSE envelopes. */
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  inToto: 'application/vnd.in-toto+json',
  /**
   * Berth's own form of a containers/image simple signature where no signature
   * extension exists (OCI layouts, the local store): an OCI artifact whose one
   * layer is the OpenPGP signed message, attached to the image by `subject`.
   */
  simpleSigning: 'application/vnd.io.berth.simple-signing.v1',
  simpleSigningLayer: 'application/vnd.io.berth.simple-signing.v1+pgp',
} as const;

export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';

export { COSIGN_TAG_SUFFIXES } from '../oci/attachment-tags.js';

/**
 * How many signatures of one image any check examines, and how large a
 * signed payload may be: a signature manifest with 10,000 layers or a huge
 * payload must not turn a pull into unbounded work.
 */
export const MAX_SIGNATURES_EXAMINED = 100;
export const MAX_PAYLOAD_BYTES = 64 * 1024;
