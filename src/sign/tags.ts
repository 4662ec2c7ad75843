import type { Digest } from '../oci/digest.js';
import { digestTag } from '../oci/attachment-tags.js';

export { digestTag, isAttachmentTag } from '../oci/attachment-tags.js';

/** cosign's signature tag: `sha256-<hex>.sig`. */
export const signatureTag = (d: Digest): string => `${digestTag(d)}.sig`;
