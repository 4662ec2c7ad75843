import { RegistryError } from '../../oci/errors.js';
import { parseRepoName } from '../../oci/name.js';
import { ACTIONS } from '../../config/auth.js';
import type { AccessPolicy } from './policy.js';

/** One entry of a token's `access` claim (and of a requested `scope`). */
export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

export const CATALOG_SCOPE = 'registry:catalog:*';
/** Registry-wide storage figures (`/berth/v1/usage` totals): for users with `usage` everywhere. */
export const USAGE_SCOPE = 'registry:usage:*';
/** /metrics and /berth/v1/notifications: for users with `metrics` everywhere. */
export const METRICS_SCOPE = 'registry:metrics:*';

/**
 * Parses `scope` parameters (each a space-separated list of
 * `type:name:actions`). A repository name must be valid, so a scope cannot
 * name a path (`repository:../x:push` is refused, not granted).
 */
export function parseScopes(values: string[]): Grant[] {
  return values
    .flatMap((v) => v.split(' '))
    .filter((s) => s !== '')
    .map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      if (first <= 0 || last === first) throw new RegistryError('UNSUPPORTED', `malformed scope "${s.slice(0, 200)}": expected type:name:actions`, { status: 400 });
      const type = s.slice(0, first);
      const name = s.slice(first + 1, last);
      if (type === 'repository') parseRepoName(name);
      return { type, name, actions: s.slice(last + 1).split(',').filter((a) => a !== '') };
    });
}

/**
 * What a token may carry: per repository the intersection of the actions asked
 * for (all scopes naming it, merged) and those the policy allows; the catalog
 * for logged-in users. Anything else asked for is left out.
 */
export function grantScopes(requested: Grant[], user: string | null, policy: AccessPolicy): Grant[] {
  const asked = new Map<string, Grant>();
  for (const r of requested) {
    const key = `${r.type}:${r.name}`;
    const prev = asked.get(key);
    asked.set(key, { ...r, actions: [...new Set([...(prev?.actions ?? []), ...r.actions])] });
  }
  const out: Grant[] = [];
  for (const r of asked.values()) {
    if (r.type === 'repository') {
      const allowed = policy.allowed(user, r.name);
      const wanted = r.actions.includes('*') ? [...ACTIONS] : r.actions;
      const actions = ACTIONS.filter((a) => wanted.includes(a) && allowed.has(a));
      if (actions.length) out.push({ type: r.type, name: r.name, actions });
    } else if (r.type === 'registry' && r.name === 'catalog' && r.actions.includes('*') && user !== null) {
      out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
    } else if (r.type === 'registry' && (r.name === 'usage' || r.name === 'metrics') && r.actions.includes('*') && policy.allowsEverywhere(user, r.name)) {
      out.push({ type: 'registry', name: r.name, actions: ['*'] });
    }
  }
  return out;
}

/** Whether the `access` entries give every one of `actions` on `type:name`. */
export function grants(access: Grant[], type: string, name: string, actions: string[]): boolean {
  const have = new Set(access.filter((a) => a.type === type && a.name === name).flatMap((a) => a.actions));
  return have.has('*') || actions.every((a) => have.has(a));
}
