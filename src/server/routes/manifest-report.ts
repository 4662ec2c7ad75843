import { parseDigest, type Digest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, type RepoName } from '../../oci/name.js';
import type { Authorizer } from '../access.js';
import type { Req } from '../http.js';

export interface ManifestReportPath {
  matches(req: Req): boolean;
  /** The repository and digest named, once the caller is known to have pull on the repository. */
  authorise(auth: Authorizer, req: Req): Promise<{ repo: RepoName; digest: Digest }>;
}

/**
 * `/berth/v1/repositories/NAME/manifests/DIGEST/<what>`: a report about one
 * manifest (its signatures, its scan). Pull on NAME is asked before anything
 * is looked up, so a caller without it learns nothing, not even whether the
 * repository or the digest exists.
 */
export function manifestReportPath(what: string): ManifestReportPath {
  const pattern = new RegExp(`^/berth/v1/repositories/(.+)/manifests/([^/]+)/${what}$`);
  const match = (req: Req) => pattern.exec(req.url.split('?', 1)[0]!);
  return {
    matches: (req) => match(req) !== null,
    async authorise(auth, req) {
      const m = match(req);
      if (!m) throw new RegistryError('UNSUPPORTED', `expected /berth/v1/repositories/NAME/manifests/DIGEST/${what}`, { status: 404 });
      const repo = parseRepoName(decodeURIComponent(m[1]!));
      const digest = parseDigest(decodeURIComponent(m[2]!));
      await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
      return { repo, digest };
    },
  };
}
