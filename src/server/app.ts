import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { isRegistryError, RegistryError } from '../oci/errors.js';
import type { RegistryContext } from '../registry/context.js';
import type { Authorizer } from './access.js';
import { refuseWhileDraining } from './drain.js';
import { sendError } from './http.js';
import { isClientGone, watchBody } from './body-watchdog.js';
import { declareSendIdle } from './send-watchdog.js';
import { isNoSpace, type Health } from './health.js';
import { handleV2 } from './routes/v2.js';
import { registerBerthApi } from './routes/berth-api.js';
import type { WorkerPool } from '../workers/pool.js';
import { registerSignatureExtension } from './routes/signature-extension.js';
import type { PullThroughCache } from '../proxy/cache.js';
import { registerReplicationApi } from './routes/replication-api.js';
import type { Replication } from '../replication/replication.js';
import { registerNotificationsApi } from './routes/notifications-api.js';
import type { NotificationsConfig } from '../config/notifications.js';
import type { Metrics } from './metrics/metrics.js';
import { httpMetrics } from './metrics/http-hooks.js';
import { requestLogger } from './request-logger.js';
import { declareRequestNotes } from './request-notes.js';
import { registerMetricsRoute } from './metrics/endpoint.js';
import { requestLogLine } from './request-log.js';
import type { AuditLog } from './auth/audit.js';
import { installUi, type UiOptions } from '../ui/install.js';

export interface AppOptions {
  ctx: RegistryContext;
  auth: Authorizer;
  workers: WorkerPool;
  logger: Logger;
  /** Answers /readyz: false while starting or draining. */
  ready: () => boolean;
  /** True between SIGTERM and closing the listener: new requests get 503 with Retry-After. */
  draining?: () => boolean;
  /** Serve HTTPS with this PEM certificate and key. */
  https?: { cert: Buffer; key: Buffer };
  /** A request body that sends nothing for this long is cut off (0: never). */
  bodyIdleMs?: number;
  /** A blob response the client takes nothing of for this long is cut off (0: never). */
  sendIdleMs?: number;
  /** Whether writes may go ahead; /readyz reports its problems. */
  health: Health;
  /** The pull-through cache, when `proxy:` is configured. */
  proxy?: PullThroughCache;
  /** The `replication:` rules, for their status. */
  replication?: Replication;
  /** Proxies whose X-Forwarded-* headers are believed (addresses or CIDR ranges). */
  trustedProxies?: string[];
  /** Collect metrics; `/metrics` is served here unless `metricsRoute` is false (a listener of its own serves it). */
  metrics?: Metrics;
  metricsRoute?: boolean;
  notifications?: NotificationsConfig;
  /** Deletes through `/berth/v1/` are audited here (absent without `auth:`). */
  audit?: AuditLog;
  /** The web UI, unless `ui.enabled` is false. */
  ui?: UiOptions;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Bytes that are not HTTP at all (a TLS ClientHello, say) still get a plain
 * `HTTP/1.1 400` with an OCI error body before the socket closes: the docker
 * CLI falls back from HTTPS to HTTP only when it sees exactly that.
 */
function answerMalformedRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: tooLarge ? 'request headers too large' : 'malformed HTTP request' }] });
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Routes declare no Fastify schemas (requests are checked by zod, bodies are streamed), so Fastify's own compilers
 * are never used; left to their defaults it loads Ajv and fast-json-stringify at every start anyway, about 0.3 s of CPU
 * (profiled with `--cpu-prof`), and the test suite starts a few hundred servers.
 */
const NO_SCHEMA_COMPILERS = {
  buildValidator: () => () => {
    throw new Error('Berth routes declare no Fastify schemas; validate with zod');
  },
  buildSerializer: () => () => {
    throw new Error('Berth routes declare no Fastify schemas; serialise explicitly');
  },
};

export function buildApp(opts: AppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // One access line per request comes from the onResponse hook below, with the fields Berth wants.
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    // Repository names are matched by handleV2; Fastify only routes the prefix.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1000 },
    genReqId: () => randomUUID(),
    childLoggerFactory: requestLogger,
    requestIdHeader: false,
    // Blob bodies are streams; Fastify's own limit applies to nothing Berth parses.
    bodyLimit: 1 << 20,
    return503OnClosing: true,
    clientErrorHandler: answerMalformedRequest,
    trustProxy: opts.trustedProxies?.length ? opts.trustedProxies : false,
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
    ...(opts.https ? { https: opts.https } : {}),
  }) as FastifyInstance;

  // Leave every body unread: handlers stream `request.raw` themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  declareRequestNotes(app);
  declareSendIdle(app, opts.sendIdleMs ?? 0);
  const metrics = opts.metrics && httpMetrics(opts.metrics);
  // Callback hooks, not async ones: every request runs them, and a promise each was measurable on a HEAD.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('X-Request-Id', req.id);
    if (req.method === 'PATCH' || req.method === 'PUT' || req.method === 'POST') watchBody(req.raw, opts.bodyIdleMs ?? 0);
    metrics?.started(req);
    done();
  });
  if (opts.draining) refuseWhileDraining(app, opts.draining);
  app.addHook('onResponse', (req, reply, done) => {
    // The line is built only when it is written: at `--log-level warn` building it was most of a HEAD's logging cost.
    if ((req.log as Logger).isLevelEnabled('info')) req.log.info(requestLogLine(req, reply, opts.auth), 'request');
    metrics?.answered(req, reply);
    done();
  });
  if (opts.metrics && opts.metricsRoute !== false) registerMetricsRoute(app, opts.metrics, opts.auth);

  app.route({ method: [...METHODS], url: '/v2', handler: (req, reply) => handleV2(opts, req, reply) });
  app.route({ method: [...METHODS], url: '/v2/*', handler: (req, reply) => handleV2(opts, req, reply) });
  registerBerthApi(app, { ...opts, auth: opts.ui ? installUi(app, opts.auth, opts.ui) : opts.auth });
  registerSignatureExtension(app, opts);
  registerReplicationApi(app, opts);
  if (opts.notifications) registerNotificationsApi(app, { auth: opts.auth, workers: opts.workers, config: opts.notifications });
  app.get('/healthz', async (_req, reply) => reply.type('application/json').send('{"status":"ok"}'));
  app.get('/readyz', async (_req, reply) => {
    const problems = opts.health.problems().map(({ check, message }) => ({ check, message }));
    const ready = opts.ready() && problems.length === 0;
    return reply.code(ready ? 200 : 503).type('application/json').send(JSON.stringify(ready ? { status: 'ready' } : { status: 'not ready', problems }));
  });

  app.setNotFoundHandler((req, reply) => {
    sendError(reply, new RegistryError('UNSUPPORTED', `no such endpoint: ${req.method} ${req.url.split('?', 1)[0]!.slice(0, 200)}`, { status: 404 }));
  });

  app.setErrorHandler((err, req, reply) => {
    if (isClientGone(err, req.raw)) {
      req.log.info({ reason: (err as Error).message }, 'client went away before the request finished');
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    if (isRegistryError(err)) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return sendError(reply, err);
    }
    if (isNoSpace(err)) {
      req.log.error({ err }, 'storage is full');
      void opts.health.refresh();
      return sendError(reply, new RegistryError('UNAVAILABLE', 'storage is full; the partial upload was removed: free space on the registry and push again', { status: 507 }));
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendError(reply, new RegistryError('UNSUPPORTED', (err as Error).message, { status }));
    }
    req.log.error({ err }, 'internal error');
    return sendError(reply, new RegistryError('UNKNOWN', `internal server error; see the server log for request ${req.id}`));
  });

  return app;
}
