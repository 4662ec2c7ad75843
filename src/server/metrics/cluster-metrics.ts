import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/**
 * /metrics with `--workers N`: a scrape lands on one worker, which asks the
 * supervisor to add up every worker's figures (prom-client's aggregator:
 * counters and histograms summed, registry-wide gauges taken once), so a
 * scrape shows the whole server whichever worker answers it.
 */
const COLLECT = 'berth:metrics:collect';
const COLLECTED = 'berth:metrics:collected';
const SNAPSHOT = 'berth:metrics:snapshot';
/** A worker that does not answer in time is left out of that scrape rather than holding it. */
const SNAPSHOT_WAIT_MS = 5000;
const COLLECT_WAIT_MS = 10_000;

type Message = { type: typeof COLLECT | typeof SNAPSHOT; id: string } | { type: typeof COLLECTED; id: string; text?: string } | { type: typeof SNAPSHOT; id: string; json: object[] };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('berth:metrics:');

/** In a worker: answers the supervisor's snapshot requests, and returns how to get the whole server's exposition. */
export function workerMetrics(metrics: Metrics, logger: Logger): () => Promise<string> {
  const waiting = new Map<string, (text: string | undefined) => void>();
  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === SNAPSHOT && !('json' in m)) {
      metrics.snapshot().then(
        (json) => process.send?.({ type: SNAPSHOT, id: m.id, json }),
        (err: unknown) => logger.warn({ err }, 'collecting metrics for the supervisor failed'),
      );
    } else if (m.type === COLLECTED) waiting.get(m.id)?.(m.text);
  });
  return async () => {
    const id = randomUUID();
    const text = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), COLLECT_WAIT_MS);
      waiting.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      process.send?.({ type: COLLECT, id });
    });
    waiting.delete(id);
    if (text !== undefined) return text;
    logger.warn('the supervisor did not add up the workers\' metrics in time; this scrape shows one worker');
    return metrics.localExposition();
  };
}

/** In the supervisor: adds up the workers' snapshots when one of them is scraped. */
export function superviseMetrics(workers: () => Worker[]): void {
  const snapshots = new Map<string, (json: object[]) => void>();
  cluster.on('message', (from, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === SNAPSHOT && 'json' in m) snapshots.get(m.id)?.(m.json);
    else if (m.type === COLLECT) {
      void aggregate(workers(), snapshots).then((text) => from.isConnected() && from.send({ type: COLLECTED, id: m.id, text }));
    }
  });
}

async function aggregate(workers: Worker[], snapshots: Map<string, (json: object[]) => void>): Promise<string | undefined> {
  const parts = await Promise.all(
    workers.map(
      (w) =>
        new Promise<object[] | undefined>((resolve) => {
          const id = randomUUID();
          const timer = setTimeout(() => done(undefined), SNAPSHOT_WAIT_MS);
          const done = (json: object[] | undefined) => {
            clearTimeout(timer);
            snapshots.delete(id);
            resolve(json);
          };
          snapshots.set(id, done);
          if (w.isConnected()) w.send({ type: SNAPSHOT, id });
          else done(undefined);
        }),
    ),
  );
  const { AggregatorRegistry } = await import('prom-client');
  const present = parts.filter((p): p is object[] => p !== undefined);
  return present.length === 0 ? undefined : AggregatorRegistry.aggregate(present).metrics();
}
