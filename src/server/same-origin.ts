import { RegistryError } from '../oci/errors.js';
import { header, type Req } from './http.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export const changesState = (req: Req): boolean => !SAFE.has(req.method);

/**
 * Refuses a state-changing request a browser sent from another origin. A
 * browser says where a request comes from (`Sec-Fetch-Site`, `Origin`); a
 * script sends neither and is not affected. This covers credentials the
 * browser attaches by itself (a cookie, a remembered Basic password) on top
 * of SameSite=Strict and the CSRF token.
 */
export function refuseCrossOrigin(req: Req): void {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw crossSite(`Sec-Fetch-Site: ${site.slice(0, 40)}`);
  const origin = header(req, 'origin');
  if (origin === undefined) return;
  const host = header(req, 'host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw crossSite(`Origin: ${origin.slice(0, 100)}`);
  }
  if (host === undefined || originHost !== host) throw crossSite(`Origin: ${origin.slice(0, 100)}`);
}

const crossSite = (what: string) => new RegistryError('DENIED', `cross-site request refused (${what}): changes are accepted only from the registry's own pages`, { status: 403 });
