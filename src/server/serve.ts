import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';
import { sqliteChanges, watchChanges } from '../meta/change-feed.js';
import { openLeases } from '../meta/lease.js';
import { purgeStaleUploads } from '../registry/uploads.js';
import { openAccess } from './access.js';
import { buildApp } from './app.js';
import { openBackends, registryContext } from '../config/backends.js';
import { blobRoot, sqlitePath, type Config } from '../config/config.js';
import { freeSpace, Health, sameFile } from './health.js';
import { monitorLoop } from './loop-monitor.js';
import { WORKER_READY } from './cluster.js';
import { scheduleEviction, scheduleGc } from './scheduled-gc.js';
import { installSignaturePolicy } from '../config/policy.js';
import { openAuth, type AuthSetup } from './auth/setup.js';
import type { Kysely } from 'kysely';
import type { Database } from '../meta/schema.js';
import { SessionQueries } from '../meta/session-queries.js';
import { Sessions } from '../ui/sessions.js';
import type { UiOptions } from '../ui/install.js';
import { isLoopback, readTls } from './tls.js';
import { WorkerPool } from '../workers/pool.js';
import { JobQueue } from '../jobs/queue.js';
import { JobRunner, type JobHandler } from '../jobs/runner.js';
import { every } from '../jobs/schedule.js';
import { openScanning } from './scanning.js';
import { openReplication } from '../replication/replication.js';
import type { Server as HttpsServer } from 'node:https';
import { PullThroughCache } from '../proxy/cache.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Metrics } from './metrics/metrics.js';
import { listenForMetrics } from './metrics/endpoint.js';
import { workerMetrics } from './metrics/cluster-metrics.js';
import { Notifier } from '../notify/notifier.js';
import type { SourceRecord } from '../notify/event-record.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Upper bound on how long a replica may serve a tag or manifest another replica changed (docs/REPLICAS.md). */
const CHANGE_FEED_INTERVAL_MS = 1000;
/** How often free space is looked at (the database and data directory are checked before every write). */
const HEALTH_INTERVAL_MS = 2000;
/** The window of the event loop delay figures in the log. */
const LOOP_WINDOW_MS = 1000;
/** Jobs that ran out of attempts are kept this long for inspection. */
const DEAD_JOB_RETENTION_MS = 7 * 86_400_000;
/**
 * An ordered queue's lease (webhook deliveries) lapses this long after its
 * holder died: after a kill -9 on SQLite, the restarted server delivers again
 * within this (PostgreSQL frees it with the dead connection at once).
 */
const QUEUE_LEASE_MS = 10_000;

export interface RunningServer {
  /** The bound address, e.g. `127.0.0.1:5000`. */
  address: string;
  logger: Logger;
  close(): Promise<void>;
}

export function makeLogger(config: Config): Logger {
  // Colour only for a person at a terminal; one line per entry either way.
  const transport = config.log.format === 'pretty' ? { target: 'pino-pretty', options: { colorize: process.stdout.isTTY === true, singleLine: true, translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'", ignore: 'pid,hostname,service' } } : undefined;
  return pino({
    level: config.log.level,
    // With several worker processes a line says which one wrote it.
    base: cluster.isWorker ? { service: 'berth', pid: process.pid } : { service: 'berth' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.password', '*.secret', '*.token'], censor: '[redacted]' },
    transport,
  });
}

/** Wires store, metadata and HTTP from a config, starts listening, and handles shutdown signals. */
export async function serve(config: Config, logger = makeLogger(config)): Promise<RunningServer> {
  const tls = config.tls && readTls(config.tls);
  let metrics: Metrics | undefined;
  const auth = await openAuth(config, logger, { tls: tls !== undefined, onAudit: (e) => metrics?.audit(e) });
  const { store, metaDb, describe } = await openBackends(config);
  const ctx = registryContext(config, { store, metaDb });
  await installSignaturePolicy(ctx, config.policy);
  const leases = openLeases(metaDb);
  const jobs = new JobQueue(metaDb.db, metaDb.dialect);
  const scanning = config.scan && openScanning(config, config.scan, { ctx, jobs, leases, logger });

  const workers = new WorkerPool(config, { threads: config.workers.threads, maxQueue: config.workers.queue });
  if (config.metrics.enabled) {
    metrics = new Metrics(ctx, workers, logger, config.metrics.storageInterval, config.metrics.gcDurations);
    if (cluster.isWorker) metrics.collectWith(workerMetrics(metrics, logger));
  }
  // The port is known once listening; events before that (there are none: nothing is served yet) say the configured one.
  const source: SourceRecord = { addr: `${hostname()}:${splitAddr(config.http.addr).port}`, instanceID: randomUUID() };
  const notifier = new Notifier(config.notifications, jobs, source, logger, { dropped: (e) => metrics?.dropped(e), attempted: (e, ok, s) => metrics?.attempted(e, ok, s) });
  await notifier.start(ctx.events);
  const health = healthOf(config, logger);
  const stopHealth = health.start(HEALTH_INTERVAL_MS);
  const stopLoopMonitor = monitorLoop(logger, LOOP_WINDOW_MS);
  // Before the first request: pushes enqueue their replication in their own transactions.
  const replication = openReplication(config.replication, { ctx, jobs, leases, logger });
  let ready = false;
  let draining = false;
  const ui = config.ui.enabled ? uiOptions(config, metaDb, auth, tls !== undefined) : undefined;
  const proxy = config.proxy && (await PullThroughCache.open(ctx, config.proxy, logger));
  const app = buildApp({
    ctx,
    auth: auth?.authorizer ?? openAccess,
    workers,
    health,
    logger,
    ready: () => ready,
    draining: () => draining,
    https: tls,
    bodyIdleMs: config.http.bodyIdleTimeout,
    sendIdleMs: config.http.sendIdleTimeout,
    trustedProxies: config.http.trustedProxies,
    metrics,
    metricsRoute: config.metrics.addr === undefined,
    notifications: config.notifications,
    ...(auth ? { audit: auth.audit } : {}),
    ...(ui ? { ui } : {}),
    ...(proxy ? { proxy } : {}),
    replication,
  });
  auth?.install(app);
  const { host, port } = splitAddr(config.http.addr);
  app.server.maxConnections = config.http.maxConnections;
  await app.listen({ host, port });
  const bound = app.server.address();
  const address = addressOf(bound, config.http.addr);
  if (typeof bound === 'object' && bound) source.addr = `${hostname()}:${bound.port}`;
  const metricsServer = metrics && config.metrics.addr ? await listenForMetrics(splitAddr(config.metrics.addr).host, splitAddr(config.metrics.addr).port, metrics, logger) : undefined;
  ready = true;

  if (metaDb.dialect === 'sqlite') {
    ctx.caches.checkWith(sqliteChanges(metaDb));
    app.server.on('request', () => ctx.caches.requestArrived());
  }
  const stopWatching = watchChanges(metaDb, {
    onChange: () => ctx.caches.clearMutable(),
    intervalMs: CHANGE_FEED_INTERVAL_MS,
    onError: (err) => logger.warn({ err }, 'metadata change feed interrupted; caches are dropped until it is back'),
  });
  // Features that work in the background (scan on push, replication, webhooks) add their handlers here.
  const handlers: JobHandler[] = [...notifier.handlers(), ...(scanning ? scanning.handlers : []), ...replication.handlers];
  const runner = new JobRunner(jobs, openLeases(metaDb, QUEUE_LEASE_MS), handlers, logger);
  if (handlers.length > 0) runner.start();
  scanning?.start();
  replication.start(() => runner.poke());
  const stopPurge = every(metaDb.db, leases, {
    name: 'upload-purge',
    intervalMs: config.uploads.purgeInterval,
    run: async () => {
      await purgeStaleUploads(ctx);
      await jobs.purgeDead(Date.now() - DEAD_JOB_RETENTION_MS);
    },
    onError: (err) => logger.warn({ err }, 'purging stale uploads failed'),
  });
  const stopGc = scheduleGc(metaDb.db, workers, leases, config.gc.interval, logger, (report, seconds) => metrics?.gc(report, seconds));
  const cap = config.proxy?.maxSize !== undefined ? { ...config.proxy, maxBytes: config.proxy.maxSize } : undefined;
  const stopEviction = cap ? scheduleEviction(metaDb.db, workers, leases, { namespaces: cap.upstreams.map((u) => u.namespace), maxBytes: cap.maxBytes }, cap.evictInterval, logger) : () => {};

  if (!isLoopback(host)) {
    if (auth && !tls) {
      logger.warn({ address }, 'SERVING PLAIN HTTP ON A NON-LOOPBACK ADDRESS WITH AUTH ON: passwords and tokens cross the network in clear text. Set tls: { cert, key } or put a TLS proxy in front');
    } else if (!auth) {
      logger.warn({ address }, `NO AUTHENTICATION ON A NON-LOOPBACK ADDRESS: anyone who reaches ${address} may push and delete${tls ? '' : ', over plain HTTP'}. Configure auth (README: Secure your registry) or listen on localhost`);
    }
  }
  const metricsAt = metricsServer ? addressOf(metricsServer.address(), config.metrics.addr!) : metrics ? `${address}/metrics` : undefined;
  logger.info({ address, tls: tls !== undefined, auth: auth !== undefined, data: describe.blobs, metadata: describe.metadata, metrics: metricsAt }, cluster.isWorker ? 'berth worker listening' : 'berth registry listening');
  if (cluster.isWorker) process.send?.(WORKER_READY);
  // SIGHUP re-reads the certificate (renewed by certbot, say) without dropping connections.
  const reloadTls = () => {
    try {
      (app.server as unknown as HttpsServer).setSecureContext(readTls(config.tls!));
      logger.info('TLS certificate reloaded');
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'TLS reload failed; still serving the previous certificate');
    }
  };
  if (tls) process.on('SIGHUP', reloadTls);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      // Still listening: clients and load balancers get 503 (and /readyz says not ready) instead of refused connections.
      draining = true;
      process.off('SIGHUP', reloadTls);
      auth?.close();
      stopPurge();
      stopGc();
      stopEviction();
      replication.stop();
      stopHealth();
      stopLoopMonitor();
      await runner.stop();
      await scanning?.stop();
      await notifier.close();
      metricsServer?.close();
      await stopWatching();
      await sleep(config.http.drainPeriod);
      const timer = setTimeout(() => app.server.closeAllConnections(), config.http.shutdownTimeout);
      timer.unref();
      await app.close();
      clearTimeout(timer);
      await proxy?.close();
      await workers.close();
      await metaDb.close();
    })());
  return { address, logger, close };
}

/** The web UI's options: sessions exist where there are users to log in as. */
function uiOptions(config: Config, metaDb: { db: Kysely<Database> }, auth: AuthSetup | undefined, tls: boolean): UiOptions {
  const logins = auth?.logins;
  if (!logins) return { config: config.ui, tls };
  const limits = { idleMs: config.ui.sessionIdle, lifetimeMs: config.ui.sessionLifetime, perUser: config.ui.sessionsPerUser };
  return { config: config.ui, tls, logins, sessions: new Sessions(new SessionQueries(metaDb.db, limits), limits) };
}

/** What keeps the registry from taking writes safely: the files it opened must still be the ones there, and the disk not full. */
function healthOf(config: Config, logger: Logger): Health {
  const identity = [];
  const periodic = [];
  if (!config.metadata.postgres) identity.push(sameFile(sqlitePath(config), 'the metadata database'));
  if (!config.storage.s3) {
    identity.push(sameFile(blobRoot(config), 'the data directory'));
    if (config.storage.filesystem.minFree > 0) periodic.push(freeSpace(blobRoot(config), config.storage.filesystem.minFree));
  }
  return new Health(identity, periodic, logger);
}

/** `host:port` a server is bound to (`[v6]:port`). */
function addressOf(bound: ReturnType<HttpsServer['address']>, configured: string): string {
  return typeof bound === 'object' && bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : configured;
}

export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(addr.slice(i + 1)) };
}
