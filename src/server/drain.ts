import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import { sendError } from './http.js';

/** What a draining registry tells clients to wait before they try again (a restart takes about this long). */
const RETRY_AFTER_SECONDS = 1;

/**
 * While the server drains after SIGTERM, a new request is answered at once
 * with 503 UNAVAILABLE and Retry-After (docker, containerd and berth retry
 * on that) instead of a refused connection, and its connection is closed, so
 * the retry reaches whatever serves next. /healthz and /readyz answer as
 * usual: readiness says 503 "not ready" for the load balancer. Requests
 * already running are not touched.
 */
export function refuseWhileDraining(app: FastifyInstance, draining: () => boolean): void {
  app.addHook('onRequest', (req, reply, done) => {
    if (!draining() || req.url === '/healthz' || req.url === '/readyz') return done();
    reply.header('Retry-After', String(RETRY_AFTER_SECONDS)).header('Connection', 'close');
    sendError(reply, new RegistryError('UNAVAILABLE', `the registry is shutting down; retry in ${RETRY_AFTER_SECONDS}s`));
  });
}
