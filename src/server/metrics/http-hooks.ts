import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notesOf } from '../request-notes.js';
import type { Metrics } from './metrics.js';
import { operationOf, V2_TEMPLATES } from './route-label.js';

/** A connection's byte counts when its last request was answered. */
interface Counted {
  read: number;
  written: number;
}
const COUNTED = Symbol('berth.metrics.counted');
type CountedSocket = Socket & { [COUNTED]?: Counted };

/** What the app's own onRequest and onResponse hooks call for metrics. */
export interface HttpMetrics {
  started(req: FastifyRequest, reply: FastifyReply): void;
  answered(req: FastifyRequest, reply: FastifyReply): void;
}

/**
 * Counts every request by route template, method and status, with its
 * latency and the bytes it moved, without wrapping any body in another
 * stream. A connection answers its requests one after another, so what it
 * wrote since it last answered is exactly this answer (headers included);
 * bytes received are the Content-Length, or for a chunked body (podman's
 * PATCH) what the connection read since it last answered.
 *
 * No hooks or listeners of its own: it runs inside the app's two hooks, the
 * in-flight gauge is counted when scraped (in-flight.ts), and the counts
 * live on the connection, not the request (two more request fields cost
 * about 4 % of a manifest GET: docs/BENCHMARKS.md).
 */
export function httpMetrics(metrics: Metrics): HttpMetrics {
  return {
    started(_req, reply) {
      metrics.started(reply.raw);
    },
    answered(req, reply) {
      const socket = req.socket as CountedSocket;
      const last = (socket[COUNTED] ??= { read: 0, written: 0 });
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      const declared = Number(req.headers['content-length']);
      const bytesIn = declared >= 0 ? declared : read - last.read;
      const bytesOut = written - last.written;
      last.read = read;
      last.written = written;
      const notes = notesOf(req);
      const route = notes ? V2_TEMPLATES[notes.route.kind] : (req.routeOptions.url ?? 'unmatched');
      const status = reply.statusCode;
      const op = notes && operationOf(notes.route.kind, req.method, status, notes.mounted === true);
      metrics.request(route, req.method, status, reply.elapsedTime / 1000, bytesIn, bytesOut, op);
    },
  };
}
