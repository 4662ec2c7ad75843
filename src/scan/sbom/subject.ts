import type { Digest } from '../../oci/digest.js';

/** What an SBOM describes: the image as the user named it, and the manifest digest it resolved to. */
export interface SbomSubject {
  /**
   * Absent when the document describes content whatever repository holds it
   * (the registry's scans are kept per digest: naming the repository that
   * pushed it first would tell readers of another one that it exists).
   */
  name?: string;
  digest: Digest;
}

export const TOOL = { vendor: 'Berth', name: 'berth', version: '0.1.0' } as const;

/** `pkg:oci/app@sha256:…?repository_url=host/ns/app`, the purl of an image; none without a name. */
export function imagePurl(subject: SbomSubject): string | undefined {
  if (subject.name === undefined) return undefined;
  const repo = subject.name.replace(/[@:][^/]*$/, '');
  const last = repo.slice(repo.lastIndexOf('/') + 1);
  return `pkg:oci/${encodeURIComponent(last)}@${encodeURIComponent(subject.digest)}?repository_url=${encodeURIComponent(repo)}`;
}
