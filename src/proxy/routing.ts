import { isRepoName, type RepoName } from '../oci/name.js';
import { DOCKER_HUB } from '../oci/reference.js';
import type { Upstream } from './upstream.js';

/** A repository of the cache: which upstream it mirrors, and its name here and there. */
export interface CachedRepo {
  upstream: Upstream;
  /** Where its content is stored and what the access policy sees: `docker.io/library/alpine`. */
  repo: RepoName;
  /** Its name at the upstream: `library/alpine`. */
  remote: string;
}

/** Names containerd may send as `ns` for Docker Hub images. */
const HUB_HOSTS = new Set([DOCKER_HUB, 'registry-1.docker.io', 'index.docker.io']);

/** Maps the names clients send to cached repositories, for each of the three ways clients reach the cache. */
export class CacheNames {
  constructor(
    private readonly upstreams: Upstream[],
    private readonly mirror: Upstream | undefined,
  ) {}

  /** The path-prefix form: `docker.io/library/alpine`, `ghcr.io/org/app`. */
  byPrefix(name: string): CachedRepo | undefined {
    const upstream = this.upstreams.find((u) => name.startsWith(`${u.namespace}/`));
    return upstream && cachedRepo(upstream, name.slice(upstream.namespace.length + 1));
  }

  /** containerd's mirrors: `library/alpine` with `?ns=docker.io`. Undefined when no upstream has that namespace. */
  byNamespace(ns: string, name: string): CachedRepo | undefined {
    const upstream = this.upstreams.find((u) => u.namespace === ns || (u.namespace === DOCKER_HUB && HUB_HOSTS.has(ns)));
    return upstream && cachedRepo(upstream, name);
  }

  /** Docker's `registry-mirrors`: `library/alpine` means Docker Hub's (or whichever upstream `proxy.mirror` names). */
  byMirror(name: string): CachedRepo | undefined {
    return this.mirror && cachedRepo(this.mirror, name);
  }
}

/** Docker Hub's own naming applies under `docker.io`: a one-component name is in `library/`, as docker normalises it. */
function cachedRepo(upstream: Upstream, name: string): CachedRepo | undefined {
  const remote = upstream.namespace === DOCKER_HUB && !name.includes('/') ? `library/${name}` : name;
  const repo = `${upstream.namespace}/${remote}`;
  return isRepoName(remote) && isRepoName(repo) ? { upstream, repo, remote } : undefined;
}
