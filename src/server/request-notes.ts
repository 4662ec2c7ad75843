import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from './access.js';
import type { Route } from './routes/match.js';

/** What a request turned out to be about, for the request log and the metrics written after the response. */
export interface RequestNotes {
  route: Route;
  /** Set once the request is authorised. */
  who?: Identity;
  /** A blob POST that mounted instead of uploading. */
  mounted?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    berthNotes: RequestNotes | undefined;
  }
}

/**
 * A field every request has from the start (Fastify keeps one object shape
 * for them), rather than a WeakMap entry per request, which every young
 * generation collection has to process.
 */
export function declareRequestNotes(app: FastifyInstance): void {
  app.decorateRequest('berthNotes', undefined);
}

export function noteRequest(req: FastifyRequest, route: Route): RequestNotes {
  const n: RequestNotes = { route };
  req.berthNotes = n;
  return n;
}

export function notesOf(req: FastifyRequest): RequestNotes | undefined {
  return req.berthNotes;
}
