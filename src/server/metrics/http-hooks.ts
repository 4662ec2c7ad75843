import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notesOf } from '../request-notes.js';
import type { Metrics } from './metrics.js';
import { operationOf, V2_TEMPLATES } from './route-label.js';

/** What metrics keep on a connection: its requests not yet answered, and its byte counts when it last answered one. */
interface Connection {
  open: number;
  read: number;
  written: number;
}
const CONNECTION = Symbol('berth.metrics.connection');
type CountedSocket = Socket & { [CONNECTION]?: Connection };

/** What the app's own onRequest and onResponse hooks call for metrics. */
export interface HttpMetrics {
  started(req: FastifyRequest): void;
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
 * No hooks of its own, and nothing per request beyond a few additions: it
 * runs inside the app's two hooks, and what it keeps lives on the connection.
 * A request cut off before its answer never reaches onResponse, so a closing
 * connection takes its unanswered requests out of the in-flight gauge: one
 * listener per connection, not one per request. (A list of open responses,
 * swept when it doubled, kept them alive past young collections: 10 % of a
 * manifest GET, docs/BENCHMARKS.md.)
 */
export function httpMetrics(metrics: Metrics): HttpMetrics {
  const connectionOf = (socket: CountedSocket): Connection => {
    let c = socket[CONNECTION];
    if (!c) {
      const opened: Connection = (c = socket[CONNECTION] = { open: 0, read: 0, written: 0 });
      socket.once('close', () => {
        metrics.inFlightBy(-opened.open);
        opened.open = 0;
      });
    }
    return c;
  };
  return {
    started(req) {
      connectionOf(req.socket).open++;
      metrics.inFlightBy(1);
    },
    answered(req, reply) {
      const socket = req.socket as CountedSocket;
      const c = connectionOf(socket);
      if (c.open > 0) {
        c.open--;
        metrics.inFlightBy(-1);
      }
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      const declared = Number(req.headers['content-length']);
      const bytesIn = declared >= 0 ? declared : read - c.read;
      const bytesOut = written - c.written;
      c.read = read;
      c.written = written;
      const notes = notesOf(req);
      const route = notes ? V2_TEMPLATES[notes.route.kind] : (req.routeOptions.url ?? 'unmatched');
      const status = reply.statusCode;
      const op = notes && operationOf(notes.route.kind, req.method, status, notes.mounted === true);
      metrics.request(route, req.method, status, reply.elapsedTime / 1000, bytesIn, bytesOut, op);
    },
  };
}
