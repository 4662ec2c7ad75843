import http from 'node:http';

/** A loopback HTTP server in front of a registry, for tests that make the network misbehave on cue. */
export abstract class LoopbackProxy {
  port = 0;
  private server?: http.Server;

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): void | Promise<void>;

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
  }

  stop(): Promise<void> {
    const server = this.server!;
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  }
}

/** Sends the request on to the registry at `upstream` (`http://host:port`); `respond` gets its answer. */
export function forward(req: http.IncomingMessage, upstream: string, respond: (upRes: http.IncomingMessage) => void): http.ClientRequest {
  const url = new URL(upstream);
  // A connection of its own each time: a pooled one the registry has since closed would turn into a 502 here.
  const up = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers, agent: false }, respond);
  req.pipe(up);
  return up;
}
