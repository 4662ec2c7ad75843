import type { Digest } from '../../oci/digest.js';

/** What an SBOM describes: the image as the user named it, and the manifest digest it resolved to. */
export interface SbomSubject {
  name: string;
  digest: Digest;
}

export const TOOL = { vendor: 'Berth', name: 'berth', version: '0.1.0' } as const;

/** `pkg:oci/app@sha256:…?repository_url=host/ns/app`, the purl of an image. */
export function imagePurl(subject: SbomSubject): string {
  const repo = subject.name.replace(/[@:][^/]*$/, '');
  const last = repo.slice(repo.lastIndexOf('/') + 1);
  return `pkg:oci/${encodeURIComponent(last)}@${encodeURIComponent(subject.digest)}?repository_url=${encodeURIComponent(repo)}`;
}
