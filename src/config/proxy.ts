import { z } from 'zod';
import { isRepoName } from '../oci/name.js';
import { checkRemote, remoteRegistryFields } from './remote.js';
import { duration, size } from './units.js';

/** One upstream of the pull-through cache: where it is, how to log in, and the namespace its images live under here. */
const UpstreamSchema = z
  .object({
    ...remoteRegistryFields,
    /**
     * The first component(s) of the repositories that cache it: `docker.io`
     * makes `docker.io/library/alpine` Docker Hub's `library/alpine`, and
     * gets Hub's naming (`docker.io/alpine` is `docker.io/library/alpine`).
     */
    namespace: z.string().refine(isRepoName, 'a repository name prefix such as docker.io, ghcr.io or corp/mirror'),
    /** How long a cached tag is served before the upstream is asked (with a HEAD) whether it moved. */
    tagTtl: duration.default(5 * 60_000),
  })
  .strict()
  .superRefine(checkRemote);

/**
 * `proxy:` Berth as a pull-through cache of other registries. Cached
 * content is stored like pushed content, in repositories under each
 * upstream's namespace, so access rules, GC and usage apply to it; pushes
 * into those namespaces are refused. Replication (`replication:`) describes its
 * targets with the same `remoteRegistryFields`.
 */
export const ProxyConfigSchema = z
  .object({
    upstreams: z.array(UpstreamSchema).min(1),
    /**
     * The namespace Docker's `registry-mirrors` requests go to: they name no
     * registry (`/v2/library/alpine/...`), so a repository that is not a local
     * one is looked for there.
     */
    mirror: z.string().optional(),
    /** Bytes the cached namespaces may hold; beyond it the least recently pulled images are evicted. */
    maxSize: size.optional(),
    /** How often the size is checked (in a worker thread, on one replica at a time). */
    evictInterval: duration.default(10 * 60_000),
    /** How long a request waits for another request (on any replica) that is fetching the same content. */
    waitTimeout: duration.default(5 * 60_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.upstreams.forEach((u, i) => {
      const clash = p.upstreams.findIndex((o, j) => j !== i && (o.namespace === u.namespace || o.namespace.startsWith(`${u.namespace}/`)));
      if (clash >= 0) ctx.addIssue({ code: 'custom', path: ['upstreams', clash, 'namespace'], message: `overlaps upstreams[${i}].namespace "${u.namespace}": a repository must name one upstream` });
    });
    if (p.mirror !== undefined && !p.upstreams.some((u) => u.namespace === p.mirror)) {
      ctx.addIssue({ code: 'custom', path: ['mirror'], message: `"${p.mirror}" is not the namespace of any upstream` });
    }
  });

export type ProxyConfig = z.output<typeof ProxyConfigSchema>;
export type UpstreamConfig = ProxyConfig['upstreams'][number];
