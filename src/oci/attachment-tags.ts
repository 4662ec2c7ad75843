import { algorithmOf, hexOf, type Digest } from './digest.js';

/** cosign's tag suffixes: signatures, attestations, SBOMs (`sha256-<hex>.sig`). */
export const COSIGN_TAG_SUFFIXES = ['.sig', '.att', '.sbom'] as const;

/** `sha256:abc` -> `sha256-abc`: the referrers fallback tag of the distribution spec, and cosign's stem. */
export const digestTag = (d: Digest): string => `${algorithmOf(d)}-${hexOf(d)}`.slice(0, 128);

const ATTACHMENT_TAG_RE = new RegExp(`^(sha256|sha512)-[a-f0-9]{64,128}(${COSIGN_TAG_SUFFIXES.map((s) => `\\${s}`).join('|')})?$`);

/** Tags that name what is attached to a digest rather than an image: cosign's and the referrers fallback. */
export const isAttachmentTag = (tag: string): boolean => ATTACHMENT_TAG_RE.test(tag);
