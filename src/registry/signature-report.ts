import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { findSignatures } from '../sign/gather.js';
import { checkSignatures, type SignatureCheck } from '../sign/verify.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';
import { RegistrySignatureSource } from './signature-source.js';
import { signaturePolicyOf } from './signature-policy.js';

export interface SignatureReport {
  repository: string;
  digest: Digest;
  /** At least one signature verifies with a key the policy trusts for this repository. */
  signed: boolean;
  /** Whether any policy key applies here at all; without one, signatures are listed but judged by nothing. */
  judged: boolean;
  signatures: Pick<SignatureCheck, 'kind' | 'where' | 'outcome' | 'message' | 'signer' | 'claims'>[];
}

/** A manifest's signatures, each judged by the keys `policy.signatures` trusts for its repository. */
export async function signatureReport(ctx: RegistryContext, repo: RepoName, digest: Digest): Promise<SignatureReport> {
  const repoId = await ctx.requireRepo(repo);
  const manifest = await loadManifest(ctx, repoId, digest);
  if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`, { detail: { digest } });
  const keys = signaturePolicyOf(ctx)?.keysFor(repo) ?? { cosign: [], gpg: [] };
  const found = await findSignatures(new RegistrySignatureSource(ctx, repo, repoId), { mediaType: manifest.row.mediaType, digest, size: manifest.row.size });
  const checks = await checkSignatures(found, keys, { digest });
  return {
    repository: repo,
    digest,
    signed: checks.some((c) => c.outcome === 'valid'),
    judged: keys.cosign.length + keys.gpg.length > 0,
    signatures: checks,
  };
}
