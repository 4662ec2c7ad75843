import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { RegistryContext } from '../../registry/context.js';
import type { GcReport } from '../../registry/gc.js';
import type { NotifyObserver } from '../../notify/notifier.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { TaskOutput } from '../../workers/tasks.js';
import type { AuditEntry } from '../auth/audit.js';
import { RequestTally } from './request-tally.js';
import { collectNodeMetrics } from './node-metrics.js';
import type { Operation } from './route-label.js';

/** Job queue figures are read again at most this often, however often /metrics is scraped. */
const QUEUES_INTERVAL_MS = 5000;
/** A scrape waits this long at most for fresh figures from the worker; then it shows the last ones. */
const FIGURES_WAIT_MS = 2000;

type Figures = TaskOutput<'registryFigures'>;

/**
 * Everything /metrics shows, in a registry of its own (nothing global). On
 * the hot path a request costs one map lookup and a few additions of plain
 * numbers (request-tally.ts), read into metrics when scraped; what costs what
 * the registry holds (storage totals, job queues) is computed in a worker
 * thread, at most every `metrics.storageInterval` (queues: every few
 * seconds), when scraped.
 */
export class Metrics implements NotifyObserver {
  readonly registry = new Registry();
  private readonly tally = new RequestTally();
  private inFlight = 0;
  /** Plain counts on the hot path, like the tally: set into their counters when scraped. */
  private readonly operations = { pushes: { manifest: 0, blob: 0 }, pulls: { manifest: 0, blob: 0 }, deletes: { manifest: 0, blob: 0 }, mounts: 0 };
  private readonly authFailures: Counter<'reason'>;
  private readonly loginsLimited: Counter;
  private readonly gcRuns: Counter<'result'>;
  private readonly gcSeconds: Histogram;
  private readonly gcFreed: Counter;
  private readonly notifyAttempts: Counter<'endpoint' | 'result'>;
  private readonly notifySeconds: Histogram<'endpoint'>;
  private readonly notifyDropped: Counter<'endpoint'>;
  private figures: Figures | undefined;
  private storageAt = 0;
  private queuesAt = 0;
  private refreshing: Promise<void> | undefined;
  private collect: (() => Promise<string>) | undefined;

  constructor(
    ctx: RegistryContext,
    private readonly workers: WorkerPool,
    private readonly logger: Logger,
    private readonly storageIntervalMs: number,
    gcDurations: boolean,
  ) {
    const registers = [this.registry];
    collectNodeMetrics(this.registry, gcDurations);
    // Gauges named like counters (promtool refuses them); the same counts are in nodejs_active_{handles,requests,resources} by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    for (const m of this.tally.metrics()) this.registry.registerMetric(m);
    const inFlight = () => this.inFlight;
    new Gauge({ name: 'berth_http_requests_in_flight', help: 'Requests being answered now.', registers, collect() { this.set(inFlight()); } });
    this.registerOperations();
    const lookups = ctx.caches.lookups.bind(ctx.caches);
    new Counter({
      name: 'berth_cache_lookups_total',
      help: 'Lookups of the in-memory caches, by cache and result (hit or miss).',
      labelNames: ['cache', 'result'],
      registers,
      // Set from the caches' own counts when scraped (reset, then the total: they only grow).
      collect() {
        this.reset();
        for (const [cache, n] of Object.entries(lookups())) {
          this.labels(cache, 'hit').inc(n.hits);
          this.labels(cache, 'miss').inc(n.misses);
        }
      },
    });
    this.authFailures = new Counter({ name: 'berth_auth_failures_total', help: 'Refused credentials and requests: wrong password, invalid token, or not allowed.', labelNames: ['reason'], registers });
    this.loginsLimited = new Counter({ name: 'berth_login_rate_limited_total', help: 'Logins refused by the failed-login limits (429).', registers });
    this.gcRuns = new Counter({ name: 'berth_gc_runs_total', help: 'Scheduled garbage collections, by result.', labelNames: ['result'], registers });
    this.gcSeconds = new Histogram({ name: 'berth_gc_duration_seconds', help: 'How long scheduled garbage collections took.', buckets: [1, 5, 15, 60, 300, 900, 3600], registers });
    this.gcFreed = new Counter({ name: 'berth_gc_freed_bytes_total', help: 'Bytes removed from storage by scheduled garbage collection.', registers });
    this.notifyAttempts = new Counter({ name: 'berth_notifications_attempts_total', help: 'Webhook deliveries attempted by this process, by endpoint and result.', labelNames: ['endpoint', 'result'], registers });
    this.notifySeconds = new Histogram({ name: 'berth_notifications_delivery_seconds', help: 'How long webhook deliveries took, answer included.', labelNames: ['endpoint'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    this.notifyDropped = new Counter({ name: 'berth_notifications_dropped_total', help: 'Events this process dropped because the endpoint\'s outbox was full (notifications.maxPending).', labelNames: ['endpoint'], registers });
    this.registerFigures();
  }

  /** One answered request. `op` when it pushed, pulled, deleted or mounted something. */
  request(route: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number, op: Operation | undefined): void {
    this.tally.add(route, method, status, seconds, bytesIn, bytesOut);
    if (op) {
      if (op.counter === 'mounts') this.operations.mounts++;
      else this.operations[op.counter][op.kind]++;
    }
  }

  /** Requests began (1) or ended, answered or cut off (-n). */
  inFlightBy(n: number): void {
    this.inFlight += n;
  }

  audit(entry: AuditEntry): void {
    if (entry.result === 'limited') this.loginsLimited.inc();
    else if (entry.result === 'failed' && entry.event === 'login') this.authFailures.labels('password').inc();
    else if (entry.event === 'denied') this.authFailures.labels(entry.reason?.startsWith('token') ? 'token' : 'denied').inc();
  }

  gc(report: GcReport | undefined, seconds: number): void {
    this.gcRuns.labels(report ? 'ok' : 'failed').inc();
    this.gcSeconds.observe(seconds);
    if (report) this.gcFreed.inc(report.freedBytes);
  }

  attempted(endpoint: string, ok: boolean, seconds: number): void {
    this.notifyAttempts.labels(endpoint, ok ? 'ok' : 'failed').inc();
    this.notifySeconds.labels(endpoint).observe(seconds);
  }

  dropped(endpoint: string): void {
    this.notifyDropped.labels(endpoint).inc();
  }

  /** With `--workers N`: how a worker gets the whole server's exposition (cluster-metrics.ts). */
  collectWith(collect: () => Promise<string>): void {
    this.collect = collect;
  }

  /** What a scrape shows: the whole server's figures. */
  async exposition(): Promise<string> {
    return this.collect ? this.collect() : this.localExposition();
  }

  /** This process's exposition, with registry-sized figures as fresh as their intervals allow. */
  async localExposition(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  /** This process's figures as prom-client's JSON, for the supervisor to add up. */
  async snapshot(): Promise<object[]> {
    await this.refresh();
    return this.registry.getMetricsAsJSON();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async refresh(): Promise<void> {
    const now = Date.now();
    const storage = now - this.storageAt >= this.storageIntervalMs;
    if (!storage && now - this.queuesAt < QUEUES_INTERVAL_MS) return;
    this.refreshing ??= this.workers
      .run('registryFigures', { storage })
      .then((f) => {
        this.figures = { storage: f.storage ?? this.figures?.storage, queues: f.queues };
        this.queuesAt = Date.now();
        if (storage) this.storageAt = this.queuesAt;
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'computing registry figures for /metrics failed; showing the last ones'))
      .finally(() => (this.refreshing = undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.refreshing, new Promise((r) => (timer = setTimeout(r, FIGURES_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private registerOperations(): void {
    const registers = [this.registry];
    const ops = this.operations;
    const byKind = (name: string, help: string, counts: Record<'manifest' | 'blob', number>) =>
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          for (const kind of ['manifest', 'blob'] as const) if (counts[kind] > 0) this.labels(kind).inc(counts[kind]);
        },
      });
    byKind('berth_pushes_total', 'Manifests and blobs pushed (blobs: uploads completed).', ops.pushes);
    byKind('berth_pulls_total', 'Manifests and blobs served by GET (HEADs are in berth_http_requests_total).', ops.pulls);
    byKind('berth_deletes_total', 'Manifests, tags and blob links deleted.', ops.deletes);
    new Counter({
      name: 'berth_blob_mounts_total',
      help: 'Blobs mounted from another repository instead of uploaded.',
      registers,
      collect() {
        this.reset();
        this.inc(ops.mounts);
      },
    });
  }

  /** Gauges set from the worker's last figures when scraped. */
  private registerFigures(): void {
    const registers = [this.registry];
    const figures = () => this.figures;
    const storageGauge = (name: string, help: string, pick: (s: NonNullable<Figures['storage']>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        // Read from the shared database: every worker shows the same value, added up once.
        aggregator: 'max',
        collect() {
          const s = figures()?.storage;
          if (s) this.set(pick(s));
        },
      });
    storageGauge('berth_storage_stored_bytes', 'Bytes in storage, each blob once (until GC removes what nothing uses).', (s) => s.storedBytes);
    storageGauge('berth_storage_logical_bytes', 'What every image adds up to if nothing were shared.', (s) => s.logicalBytes);
    storageGauge('berth_storage_blobs', 'Objects in storage (blobs and manifests).', (s) => s.storedObjects);
    storageGauge('berth_storage_repositories', 'Repositories holding at least one manifest.', (s) => s.repositories);
    storageGauge('berth_uploads_open', 'Upload sessions open (not completed, cancelled or expired).', (s) => s.uploads);
    storageGauge('berth_uploads_open_bytes', 'Bytes received so far by the open upload sessions.', (s) => s.uploadBytes);
    const queueGauge = (name: string, help: string, pick: (q: Figures['queues'][number], now: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['queue'],
        registers,
        aggregator: 'max',
        collect() {
          this.reset();
          const now = Date.now();
          for (const q of figures()?.queues ?? []) {
            const v = pick(q, now);
            if (v !== undefined) this.labels(q.queue).set(v);
          }
        },
      });
    queueGauge('berth_jobs_pending', 'Jobs waiting or running, per queue (webhook:<endpoint> is an endpoint\'s outbox).', (q) => q.ready + q.running);
    queueGauge('berth_jobs_dead', 'Jobs that ran out of attempts, kept for inspection.', (q) => q.dead);
    queueGauge('berth_jobs_oldest_pending_age_seconds', 'Age of the oldest job not yet done: how far behind the queue is.', (q, now) => (q.oldestPendingAt === null ? 0 : (now - q.oldestPendingAt) / 1000));
    queueGauge('berth_jobs_last_success_timestamp_seconds', 'When a job of the queue last succeeded.', (q) => (q.lastSuccessAt === null ? undefined : q.lastSuccessAt / 1000));
    // Totals over every replica, read from the database; they only grow.
    const queueCounter = (name: string, help: string, pick: (q: Figures['queues'][number]) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['queue'],
        registers,
        aggregator: 'max',
        collect() {
          this.reset();
          for (const q of figures()?.queues ?? []) this.labels(q.queue).inc(pick(q));
        },
      });
    queueCounter('berth_jobs_succeeded_total', 'Jobs done, per queue, by every replica since the queue was first used.', (q) => q.succeeded);
    queueCounter('berth_jobs_failed_total', 'Failed job runs, per queue, by every replica since the queue was first used.', (q) => q.failed);
    queueCounter('berth_jobs_dropped_total', 'Jobs refused because the queue was full (webhooks: notifications.maxPending), by every replica.', (q) => q.dropped);
  }
}
