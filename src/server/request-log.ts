import type { Authorizer } from './access.js';
import { header, type Reply, type Req } from './http.js';
import { notesOf } from './request-notes.js';

/**
 * The fields of the one log line per request: who (user, client address as
 * `http.trustedProxies` allow, user agent), what (method, path, repository,
 * tag or digest) and how it went. Built from names only: no header value
 * that could hold a password or token is ever copied in.
 */
export function requestLogLine(req: Req, reply: Reply, auth: Authorizer): Record<string, unknown> {
  const notes = notesOf(req);
  const route = notes?.route;
  const who = notes?.who ?? auth.identityOf(req);
  const line: Record<string, unknown> = {
    method: req.method,
    path: req.url.split('?', 1)[0],
    status: reply.statusCode,
    client: req.ip,
    user: who?.subject ?? undefined,
    userAgent: header(req, 'user-agent')?.slice(0, 200),
  };
  if (route && 'name' in route) line.repository = route.name;
  const ref = route && 'ref' in route ? route.ref : undefined;
  const served = reply.getHeader('docker-content-digest');
  if (ref !== undefined && !ref.includes(':')) line.tag = ref;
  const digest = typeof served === 'string' ? served : ref?.includes(':') ? ref : undefined;
  if (digest) line.digest = digest;
  line.bytesIn = Number(req.headers['content-length'] ?? 0) || undefined;
  line.bytesOut = Number(reply.getHeader('content-length') ?? 0) || undefined;
  line.ms = Math.round(reply.elapsedTime * 10) / 10;
  return line;
}
