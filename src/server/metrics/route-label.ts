import type { Route } from '../routes/match.js';

/**
 * The `route` label: the template of a `/v2/` route, never its path (a
 * label per repository name or digest would grow without bound).
 */
export const V2_TEMPLATES: Record<Route['kind'], string> = {
  base: '/v2/',
  catalog: '/v2/_catalog',
  tags: '/v2/<name>/tags/list',
  manifest: '/v2/<name>/manifests/<reference>',
  uploads: '/v2/<name>/blobs/uploads/',
  upload: '/v2/<name>/blobs/uploads/<uuid>',
  blob: '/v2/<name>/blobs/<digest>',
  referrers: '/v2/<name>/referrers/<digest>',
};

/** What the registry counters count, from a `/v2/` route, its method and status. */
export type Operation = { counter: 'pushes' | 'pulls' | 'deletes'; kind: 'manifest' | 'blob' } | { counter: 'mounts' };

export function operationOf(kind: Route['kind'], method: string, status: number, mounted: boolean): Operation | undefined {
  if (status >= 400) return undefined;
  if (kind === 'manifest') {
    if (method === 'GET') return { counter: 'pulls', kind: 'manifest' };
    if (method === 'PUT') return { counter: 'pushes', kind: 'manifest' };
    if (method === 'DELETE') return { counter: 'deletes', kind: 'manifest' };
  } else if (kind === 'blob') {
    if (method === 'GET') return { counter: 'pulls', kind: 'blob' };
    if (method === 'DELETE') return { counter: 'deletes', kind: 'blob' };
  } else if (status === 201 && (kind === 'upload' || kind === 'uploads')) {
    return mounted ? { counter: 'mounts' } : { counter: 'pushes', kind: 'blob' };
  }
  return undefined;
}
