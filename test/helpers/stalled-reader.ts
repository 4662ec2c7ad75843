import { get, type IncomingMessage } from 'node:http';

/** A GET whose client read the first chunk of the body and then stopped reading, keeping its connection open. */
export interface StalledRead {
  /** Bytes read before stalling. */
  readonly first: number;
  /** Reads on to the end: how many bytes arrived in all, and whether the body was whole. */
  resume(): Promise<{ received: number; complete: boolean }>;
  /** Closes the connection, as a client that gives up would. */
  hangUp(): void;
}

/**
 * node:http, not fetch: it stops reading the socket when its reader does, as
 * a slow or stuck client would (fetch keeps reading into its own buffer).
 */
export function readThenStall(url: string, headers: Record<string, string> = {}): Promise<StalledRead> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        req.destroy();
        return reject(new Error(`HTTP ${res.statusCode} for ${url}`));
      }
      // A cut-off body ends in an error: that is what resume() reports.
      res.on('error', () => {});
      res.once('data', (chunk: Buffer) => {
        res.pause();
        let received = chunk.length;
        resolve({
          first: chunk.length,
          resume: () =>
            new Promise((done) => {
              res.on('data', (c: Buffer) => (received += c.length));
              res.once('close', () => done({ received, complete: res.complete }));
              res.resume();
            }),
          hangUp: () => req.destroy(),
        });
      });
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
  });
}
