import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { openBackends } from '../config/backends.js';
import type { Config } from '../config/config.js';

/** What a worker sends its supervisor once it serves requests. */
export const WORKER_READY = 'berth:ready';

/** A worker that dies this soon after starting counts as a crash loop: the wait before the next start doubles. */
const STABLE_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * `berth serve --workers N`: this process supervises N worker processes that
 * each run the whole server on one shared listener (node:cluster hands each
 * connection to one of them in turn). They coordinate through the metadata
 * database exactly as replicas do (caches checked against its change counter
 * on SQLite or its change feed on PostgreSQL, scheduled tasks once across
 * all, upload sessions claimed by the writer), so nothing is shared in
 * memory. The supervisor migrates the schema first so the workers do not race
 * for it, restarts a worker that dies, and on SIGTERM or SIGINT stops them all
 * gracefully; if the supervisor itself is killed, the workers exit with it.
 * Resolves when every worker has stopped after a signal.
 */
export async function superviseWorkers(config: Config, logger: Logger): Promise<number> {
  const { metaDb } = await openBackends(config);
  await metaDb.close();
  const processes = config.workers.processes;
  let stopping = false;
  let listening = 0;
  let restarts = 0;
  const startedAt = new Map<Worker, number>();
  const addresses = new Map<Worker, string>();
  const start = () => startedAt.set(cluster.fork(), Date.now());

  return new Promise<number>((resolve) => {
    cluster.on('listening', (worker, a) => addresses.set(worker, `${a.address?.includes(':') ? `[${a.address}]` : (a.address ?? 'localhost')}:${a.port}`));
    cluster.on('message', (worker, message) => {
      if (message !== WORKER_READY || ++listening !== processes) return;
      logger.info({ address: addresses.get(worker), processes }, 'berth registry listening');
    });
    cluster.on('exit', (worker, code, signal) => {
      const started = startedAt.get(worker) ?? 0;
      startedAt.delete(worker);
      addresses.delete(worker);
      if (stopping) {
        if (startedAt.size === 0) resolve(0);
        return;
      }
      if (listening < processes) {
        // A worker that cannot start (bad TLS files, the port taken) will not start on a retry either.
        logger.fatal({ worker: worker.process.pid, code, signal }, 'a worker process failed to start; stopping');
        stopAll('SIGTERM');
        stopping = true;
        if (startedAt.size === 0) resolve(code || 1);
        return;
      }
      restarts = Date.now() - started < STABLE_MS ? restarts + 1 : 0;
      const delay = Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** restarts);
      logger.error({ worker: worker.process.pid, code, signal, restartIn: delay }, 'a worker process died; starting another');
      setTimeout(start, delay).unref();
    });
    const stopAll = (signal: NodeJS.Signals) => {
      for (const w of startedAt.keys()) w.process.kill(signal);
    };
    const stop = (signal: string) => {
      // A second signal means "now" to the workers too (their own handler).
      logger.info({ signal, processes: startedAt.size }, stopping ? 'stopping the workers now' : 'shutting down: the workers finish in-flight requests');
      stopping = true;
      stopAll('SIGTERM');
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => stopAll('SIGHUP'));
    for (let i = 0; i < processes; i++) start();
  });
}
