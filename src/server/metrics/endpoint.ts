import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Authorizer } from '../access.js';
import type { Metrics } from './metrics.js';

/** `/metrics` on the main listener, for callers with `metrics` on every repository (token scope `registry:metrics:*`). */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, auth: Authorizer): void {
  app.get('/metrics', async (req, reply) => {
    await auth.authorize(req, { type: 'metrics' });
    return reply.type(metrics.contentType).send(await metrics.exposition());
  });
}

/**
 * `/metrics` alone on an address of its own (`metrics.addr`), without
 * authentication: for a scraper on a private network. Nothing else is served there.
 */
export async function listenForMetrics(host: string, port: number, metrics: Metrics, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.exposition().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'serving /metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable; see the server log\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
