import { RegistryError } from '../../oci/errors.js';
import type { Page } from '../../registry/listing.js';
import { query, type Reply, type Req } from '../http.js';

/** `n` and `last` of a paginated listing. */
export function pageParams(req: Req): { n: number | undefined; last: string | undefined } {
  const raw = query(req, 'n');
  let n: number | undefined;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw)) throw new RegistryError('UNSUPPORTED', `invalid n "${raw.slice(0, 50)}": expected a non-negative integer`, { status: 400 });
    n = Number(raw);
  }
  return { n, last: query(req, 'last') };
}

/** RFC 5988 `Link` to the next page, as Docker's and Distribution's clients follow it. */
export function sendPage(reply: Reply, path: string, n: number | undefined, page: Page, body: object): Reply {
  if (page.next !== undefined) {
    const params = new URLSearchParams();
    if (n !== undefined) params.set('n', String(n));
    params.set('last', page.next);
    reply.header('Link', `<${path}?${params.toString()}>; rel="next"`);
  }
  return reply.code(200).type('application/json').send(JSON.stringify(body));
}
