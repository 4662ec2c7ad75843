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

const notes = new WeakMap<object, RequestNotes>();

export function noteRequest(req: object, route: Route): RequestNotes {
  const n: RequestNotes = { route };
  notes.set(req, n);
  return n;
}

export function notesOf(req: object): RequestNotes | undefined {
  return notes.get(req);
}
