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

// One object each, not one per request.
const PULL_MANIFEST: Operation = { counter: 'pulls', kind: 'manifest' };
const PUSH_MANIFEST: Operation = { counter: 'pushes', kind: 'manifest' };
const DELETE_MANIFEST: Operation = { counter: 'deletes', kind: 'manifest' };
const PULL_BLOB: Operation = { counter: 'pulls', kind: 'blob' };
const PUSH_BLOB: Operation = { counter: 'pushes', kind: 'blob' };
const DELETE_BLOB: Operation = { counter: 'deletes', kind: 'blob' };
const MOUNT: Operation = { counter: 'mounts' };

export function operationOf(kind: Route['kind'], method: string, status: number, mounted: boolean): Operation | undefined {
  if (status >= 400) return undefined;
  if (kind === 'manifest') {
    if (method === 'GET') return PULL_MANIFEST;
    if (method === 'PUT') return PUSH_MANIFEST;
    if (method === 'DELETE') return DELETE_MANIFEST;
  } else if (kind === 'blob') {
    if (method === 'GET') return PULL_BLOB;
    if (method === 'DELETE') return DELETE_BLOB;
  } else if (status === 201 && (kind === 'upload' || kind === 'uploads')) {
    return mounted ? MOUNT : PUSH_BLOB;
  }
  return undefined;
}
