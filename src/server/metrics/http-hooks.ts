import type { FastifyInstance } from 'fastify';
import { notesOf } from '../request-notes.js';
import type { Metrics } from './metrics.js';
import { operationOf, V2_TEMPLATES } from './route-label.js';

/**
 * Counts every request by route template, method and status, with its
 * latency and the bytes it moved, without wrapping any body in another
 * stream: bytes sent are the connection's count before and after; bytes
 * received are the Content-Length, or for a chunked body (podman's PATCH)
 * what the connection read while the request ran.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  const before = new WeakMap<object, { read: number; written: number }>();
  app.addHook('onRequest', (req, reply, done) => {
    metrics.started();
    // 'close' comes for every response, finished or cut off, so the gauge never drifts.
    reply.raw.once('close', () => metrics.finished());
    before.set(req, { read: req.socket.bytesRead, written: req.socket.bytesWritten });
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const notes = notesOf(req);
    const route = notes ? V2_TEMPLATES[notes.route.kind] : (req.routeOptions.url ?? 'unmatched');
    const start = before.get(req);
    const status = reply.statusCode;
    const op = notes && operationOf(notes.route.kind, req.method, status, notes.mounted === true);
    const declared = Number(req.headers['content-length']);
    const bytesIn = declared >= 0 ? declared : start ? req.socket.bytesRead - start.read : 0;
    const bytesOut = start ? req.socket.bytesWritten - start.written : 0;
    metrics.request(route, req.method, status, reply.elapsedTime / 1000, bytesIn, bytesOut, op);
    done();
  });
}
