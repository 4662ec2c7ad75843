import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notesOf } from '../request-notes.js';
import type { Metrics } from './metrics.js';
import { operationOf, V2_TEMPLATES } from './route-label.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The connection's byte counts when the request began: what it moved is the difference at the end. */
    metricsReadAt: number;
    metricsWrittenAt: number;
  }
}

/** What the app's own onRequest and onResponse hooks call for metrics. */
export interface HttpMetrics {
  started(req: FastifyRequest, reply: FastifyReply): void;
  answered(req: FastifyRequest, reply: FastifyReply): void;
}

/**
 * Counts every request by route template, method and status, with its
 * latency and the bytes it moved, without wrapping any body in another
 * stream: bytes sent are the connection's count before and after; bytes
 * received are the Content-Length, or for a chunked body (podman's PATCH)
 * what the connection read while the request ran.
 *
 * No hooks or listeners of its own: it runs inside the app's two hooks, and
 * the in-flight gauge is counted when scraped (in-flight.ts), so a request
 * pays a few assignments and one map lookup (`npm run bench -- --only
 * metrics-cost` measures the whole).
 */
export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): HttpMetrics {
  app.decorateRequest('metricsReadAt', 0);
  app.decorateRequest('metricsWrittenAt', 0);
  return {
    started(req, reply) {
      metrics.started(reply.raw);
      req.metricsReadAt = req.socket.bytesRead;
      req.metricsWrittenAt = req.socket.bytesWritten;
    },
    answered(req, reply) {
      const notes = notesOf(req);
      const route = notes ? V2_TEMPLATES[notes.route.kind] : (req.routeOptions.url ?? 'unmatched');
      const status = reply.statusCode;
      const op = notes && operationOf(notes.route.kind, req.method, status, notes.mounted === true);
      const declared = Number(req.headers['content-length']);
      const bytesIn = declared >= 0 ? declared : req.socket.bytesRead - req.metricsReadAt;
      metrics.request(route, req.method, status, reply.elapsedTime / 1000, bytesIn, req.socket.bytesWritten - req.metricsWrittenAt, op);
    },
  };
}
