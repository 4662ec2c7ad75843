import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { EndpointConfig, NotificationsConfig } from '../config/notifications.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Database } from '../meta/schema.js';
import type { RegistryEvent, RegistryEvents } from '../registry/events.js';
import { Endpoint } from './delivery.js';
import { outboxEntry, type OutboxEntry, type SourceRecord } from './event-record.js';

/** What the metrics want to know about deliveries (notify/ knows nothing of Prometheus). */
export interface NotifyObserver {
  dropped(endpoint: string): void;
  attempted(endpoint: string, ok: boolean, seconds: number): void;
}

/** How often each outbox's length is counted again (between counts, this process adds its own enqueues). */
const BACKLOG_REFRESH_MS = 2000;
/** At most one "dropping" warning per endpoint this often, with the count since the last. */
const DROP_WARN_MS = 10_000;
/** The longest pause between rounds of attempts, however long a receiver stays down. */
const MAX_PAUSE_MS = 5 * 60_000;

export const queueOf = (endpoint: string): string => `webhook:${endpoint}`;

/**
 * Webhooks (docs/OPERATIONS.md). Each event is written to the outbox (the job
 * queue) inside the transaction of the change it describes, one job per
 * endpoint on the endpoint's own ordered queue, and delivered in order from
 * there, at least once, by whichever replica holds that queue's lease. An
 * endpoint's outbox holds at most `maxPending` events: beyond that new ones
 * are dropped, counted and logged, and pushes go on.
 */
export class Notifier {
  private readonly endpoints: Endpoint[];
  private readonly backlog = new Map<string, number>();
  private readonly drops = new Map<string, { since: number; count: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: NotificationsConfig,
    private readonly queue: JobQueue,
    private readonly source: SourceRecord,
    private readonly logger: Logger,
    private readonly observer: NotifyObserver,
  ) {
    this.endpoints = config.endpoints.filter((e) => !e.disabled).map((e) => new Endpoint(e));
  }

  get active(): boolean {
    return this.endpoints.length > 0;
  }

  /** Listens to the registry's events and starts counting outboxes. */
  async start(events: RegistryEvents): Promise<void> {
    if (!this.active) return;
    await this.countBacklogs();
    this.timer = setInterval(() => void this.countBacklogs(), BACKLOG_REFRESH_MS);
    this.timer.unref();
    events.listen((e, trx) => this.record(e, trx), { blobs: true });
    if (this.config.pulls > 0) events.listenPulls((e) => this.pulled(e));
    for (const e of this.endpoints) this.logger.info({ endpoint: e.config.name, url: redactUrl(e.config.url), format: e.config.format, timeout: e.config.timeout }, 'notifications endpoint configured');
  }

  handlers(): JobHandler[] {
    return this.endpoints.map((endpoint) => ({
      queue: queueOf(endpoint.config.name),
      ordered: true,
      // Distribution retries until the receiver takes the event; so does Berth, durably.
      maxAttempts: Infinity,
      leaseMs: Math.max(10_000, 3 * endpoint.config.timeout),
      backoffMs: pauses(endpoint.config),
      run: async (payload, { signal }) => {
        const started = performance.now();
        try {
          await endpoint.deliver(payload as OutboxEntry, signal);
          this.observer.attempted(endpoint.config.name, true, (performance.now() - started) / 1000);
        } catch (e) {
          if (!signal.aborted) this.observer.attempted(endpoint.config.name, false, (performance.now() - started) / 1000);
          throw e;
        }
      },
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.endpoints.map((e) => e.close()));
  }

  private async record(e: RegistryEvent, trx: Transaction<Database>): Promise<void> {
    const entry = outboxEntry(e, this.source);
    for (const endpoint of this.endpoints) if (wants(endpoint.config, entry)) await this.enqueue(endpoint.config.name, entry, trx);
  }

  /** Outside any transaction: a pull changed nothing, and losing one to a crash loses nothing. */
  private pulled(e: RegistryEvent): void {
    if (this.config.pulls < 1 && Math.random() >= this.config.pulls) return;
    const entry = outboxEntry(e, this.source);
    for (const endpoint of this.endpoints) {
      if (!wants(endpoint.config, entry)) continue;
      this.enqueue(endpoint.config.name, entry).catch((err: unknown) => this.logger.warn({ err, endpoint: endpoint.config.name }, 'a pull event could not be written to the outbox'));
    }
  }

  private async enqueue(name: string, entry: OutboxEntry, trx?: Transaction<Database>): Promise<void> {
    const queue = queueOf(name);
    const pending = this.backlog.get(name) ?? 0;
    if (pending >= this.config.maxPending) {
      await this.queue.dropped(queue, trx);
      this.observer.dropped(name);
      this.warnDropped(name);
      return;
    }
    await this.queue.enqueue({ queue, key: entry.event.id, payload: entry }, trx);
    this.backlog.set(name, pending + 1);
  }

  private warnDropped(name: string): void {
    const now = Date.now();
    const d = this.drops.get(name) ?? { since: 0, count: 0 };
    d.count++;
    this.drops.set(name, d);
    if (now - d.since < DROP_WARN_MS) return;
    this.logger.warn({ endpoint: name, dropped: d.count, maxPending: this.config.maxPending }, 'notifications outbox full: dropping events for this endpoint until the receiver catches up');
    this.drops.set(name, { since: now, count: 0 });
  }

  private async countBacklogs(): Promise<void> {
    for (const e of this.endpoints) {
      const name = e.config.name;
      try {
        this.backlog.set(name, await this.queue.pending(queueOf(name), this.config.maxPending));
      } catch (err) {
        this.logger.warn({ err, endpoint: name }, 'counting the notifications outbox failed');
      }
    }
  }
}

/** Distribution's filters: ignored media types (both keys) and ignored actions. */
function wants(e: EndpointConfig, { event }: OutboxEntry): boolean {
  if (e.ignore.actions.includes(event.action)) return false;
  const type = event.target.mediaType;
  return type === undefined || !(e.ignoredmediatypes.includes(type) || e.ignore.mediatypes.includes(type));
}

/**
 * Distribution's circuit breaker: `threshold` failed attempts in a row, then
 * a pause of `backoff`. Berth doubles the pause after each further round (up
 * to five minutes), so a receiver down for a day is not called every second.
 */
export function pauses(e: EndpointConfig): (attempts: number) => number {
  return (attempts) => (attempts % e.threshold !== 0 ? 0 : Math.min(e.backoff * 2 ** (attempts / e.threshold - 1), Math.max(e.backoff, MAX_PAUSE_MS)));
}

/** A URL as it may be shown: without a password in it. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
