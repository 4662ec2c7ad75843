import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';
import type { ManifestRow } from '../meta/metadata.js';

/**
 * Policies the registry consults before it serves a manifest or moves a tag:
 * "only signed images in prod/**" (signatures), "no image with a critical
 * vulnerability" (scanning). Each gate decides for itself which repositories
 * and which manifests it cares about (a signature manifest, a referrer or an
 * SBOM must stay readable so clients can verify), and refuses by throwing a
 * DENIED RegistryError whose message names the policy and what to do.
 * Gates are asked in order; the first refusal wins.
 */
export interface PullGate {
  readonly name: string;
  /** Called for every manifest GET and HEAD, after the reference resolved to `manifest`; `head` says which. */
  checkPull(repo: RepoName, manifest: ManifestRow, head: boolean): Promise<void>;
}

export interface TagGate {
  readonly name: string;
  /** Called before a push points `tag` at `digest` (the manifest may not be stored yet). */
  checkTag(repo: RepoName, tag: string, digest: Digest, mediaType: string): Promise<void>;
}

export class Gates {
  readonly pull: PullGate[] = [];
  readonly tag: TagGate[] = [];

  async checkPull(repo: RepoName, manifest: ManifestRow, head = false): Promise<void> {
    for (const g of this.pull) await g.checkPull(repo, manifest, head);
  }

  async checkTags(repo: RepoName, tags: string[], digest: Digest, mediaType: string): Promise<void> {
    for (const tag of tags) for (const g of this.tag) await g.checkTag(repo, tag, digest, mediaType);
  }
}
