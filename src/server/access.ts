import type { Req } from './http.js';

/**
 * `usage` shows a repository's shared and unique bytes, which reveal what
 * other repositories hold; `metrics`, granted on every repository, is the
 * operator's view of the whole registry (/metrics, notification status).
 */
export type Action = 'pull' | 'push' | 'delete' | 'usage' | 'metrics';

/** What a request needs: an action on a repository, the catalog, the operator's view, or nothing but a valid identity. */
export type Need = { type: 'repository'; name: string; actions: Action[] } | { type: 'catalog' } | { type: 'metrics' } | { type: 'base' };

export interface Identity {
  /** Who the request is from, for logs and tag history; null when anonymous. */
  subject: string | null;
}

/**
 * Decides whether a request may do what it needs. Throws an UNAUTHORIZED or
 * DENIED RegistryError (with the challenge header) when it may not.
 */
export interface Authorizer {
  authorize(req: Req, need: Need): Promise<Identity>;
  /** Whether an identity already established may also do `action` on `repo` (mount sources, filtering listings). */
  allows(identity: Identity, repo: string, action: Action): Promise<boolean>;
  /** Whether it may see registry-wide figures (storage totals): `usage` on every repository. */
  audits(identity: Identity): Promise<boolean>;
  /** Who an authorised request was from (undefined: not authorised, or nobody is told apart). */
  identityOf(req: object): Identity | undefined;
}

/** No authentication configured: everyone may do everything (the zero-config default on loopback). */
export const openAccess: Authorizer = {
  authorize: async () => ({ subject: null }),
  allows: async () => true,
  audits: async () => true,
  identityOf: () => undefined,
};
