import type { Origin } from '../registry/events.js';
import type { Identity } from './access.js';
import { header, type Req } from './http.js';

/**
 * The client's address as Distribution reports it: `ip:port` of the
 * connection, or the address a trusted proxy forwarded (`http.trustedProxies`:
 * Fastify's `req.ip` honours X-Forwarded-For only from those).
 */
export function clientAddr(req: Req): string {
  const { remoteAddress, remotePort } = req.socket;
  if (req.ip !== remoteAddress || remotePort === undefined) return req.ip;
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}

/** Who made a request and how, for the events it causes. */
export function originOf(req: Req, who: Identity): Origin {
  return {
    actor: who.subject,
    request: {
      id: req.id,
      addr: clientAddr(req),
      host: header(req, 'host') ?? '',
      method: req.method,
      useragent: header(req, 'user-agent') ?? '',
      // req.host and req.protocol follow X-Forwarded-Host/-Proto only from trusted proxies.
      baseUrl: `${req.protocol}://${req.host}`,
    },
  };
}
