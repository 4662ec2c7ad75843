import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Leases } from '../meta/lease.js';
import type { ClaimedJob, JobQueue } from './queue.js';

export interface JobContext {
  job: ClaimedJob;
  /** Aborted when the server shuts down: stop soon, the job is given back and runs again later. */
  signal: AbortSignal;
}

export interface JobHandler {
  queue: string;
  /** Jobs of this queue running at once in this process (ignored when `ordered`). */
  concurrency?: number;
  /** One at a time across every replica, in enqueue order (webhook deliveries to one endpoint). */
  ordered?: boolean;
  /** How long a claim holds unless renewed; a holder that died loses its jobs after this long. */
  leaseMs?: number;
  /** Runs after which a failing job is given up (kept as dead). */
  maxAttempts?: number;
  /** Wait before the next run after `attempts` failed runs. */
  backoffMs?: (attempts: number) => number;
  /** Must be idempotent: a job may run again after a crash. Throw to fail the run. */
  run(payload: unknown, ctx: JobContext): Promise<void>;
}

export interface RunnerOptions {
  /** How often each queue is looked at (jobs enqueued by other replicas are seen this late at most). */
  pollMs?: number;
  /** On stop, how long running jobs get to finish before they are given back. */
  stopTimeoutMs?: number;
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_ATTEMPTS = 10;

/** Exponential from 2 s, capped at 10 min, with jitter so failed jobs do not retry in lockstep. */
export const defaultBackoff = (attempts: number): number => Math.min(600_000, 2000 * 2 ** (attempts - 1)) * (0.75 + Math.random() / 2);

/**
 * Runs the handlers' jobs in this process. Every queue is polled; `poke`
 * (after enqueueing here) looks at once. Running jobs' leases are renewed
 * while they run. A failed run is retried with backoff, a job out of
 * attempts is kept as dead; on stop, running jobs are aborted and given back.
 */
export class JobRunner {
  private readonly holder = `berth-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<number, { job: ClaimedJob; handler: JobHandler; done: Promise<void> }>();
  private readonly busy = new Set<string>();
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly leases: Leases,
    private readonly handlers: JobHandler[],
    private readonly logger: Logger,
    private readonly opts: RunnerOptions = {},
  ) {}

  start(): void {
    const poll = setInterval(() => this.poke(), this.opts.pollMs ?? 1000);
    const renew = setInterval(() => void this.renew(), Math.min(...this.handlers.map(leaseOf), DEFAULT_LEASE_MS) / 3);
    this.timers = [poll, renew];
    for (const t of this.timers) t.unref();
    this.poke();
  }

  /** Looks at every queue now. */
  poke(): void {
    if (this.stopped) return;
    for (const h of this.handlers) void this.tick(h);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    const pending = [...this.running.values()];
    const finished = Promise.all(pending.map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(r, this.opts.stopTimeoutMs ?? 10_000, 'timeout')));
    if ((await Promise.race([finished, timeout])) === 'timeout') this.abort.abort();
    clearTimeout(timer);
    await finished;
  }

  /** One look at a handler's queue; never two at once for the same queue in this process. */
  private async tick(h: JobHandler): Promise<void> {
    if (this.busy.has(h.queue)) return;
    this.busy.add(h.queue);
    try {
      if (h.ordered) await this.leases.withLease(`jobs:${h.queue}`, () => this.drainInOrder(h));
      else await this.claimAndStart(h);
    } catch (err) {
      this.logger.warn({ err, queue: h.queue }, 'job queue unavailable; trying again');
    } finally {
      this.busy.delete(h.queue);
    }
  }

  private async claimAndStart(h: JobHandler): Promise<void> {
    const inFlight = [...this.running.values()].filter((r) => r.handler === h).length;
    const free = (h.concurrency ?? 1) - inFlight;
    if (free <= 0) return;
    for (const job of await this.queue.claim(h.queue, this.holder, leaseOf(h), free)) {
      const done = this.execute(h, job).finally(() => this.running.delete(job.id));
      this.running.set(job.id, { job, handler: h, done });
    }
  }

  /** Runs the queue's head job after head job while it holds the queue's lease. */
  private async drainInOrder(h: JobHandler): Promise<void> {
    while (!this.stopped) {
      const job = await this.queue.claimHead(h.queue, this.holder, leaseOf(h));
      if (!job) return;
      const done = this.execute(h, job).finally(() => this.running.delete(job.id));
      this.running.set(job.id, { job, handler: h, done });
      await done;
    }
  }

  private async execute(h: JobHandler, job: ClaimedJob): Promise<void> {
    try {
      await h.run(job.payload, { job, signal: this.abort.signal });
    } catch (err) {
      if (this.abort.signal.aborted) return void (await this.settle(() => this.queue.release(job, this.holder)));
      const message = (err as Error).message ?? String(err);
      if (job.attempts >= (h.maxAttempts ?? DEFAULT_ATTEMPTS)) {
        this.logger.error({ err, queue: h.queue, key: job.key, attempts: job.attempts }, 'job failed for the last time; kept as dead');
        return void (await this.settle(() => this.queue.bury(job, this.holder, message)));
      }
      const delay = (h.backoffMs ?? defaultBackoff)(job.attempts);
      this.logger.warn({ queue: h.queue, key: job.key, attempts: job.attempts, retryInMs: Math.round(delay), reason: message }, 'job failed; will retry');
      return void (await this.settle(() => this.queue.retry(job, this.holder, message, delay)));
    }
    await this.settle(async () => {
      if (!(await this.queue.complete(job, this.holder))) this.logger.warn({ queue: h.queue, key: job.key }, 'job finished after its lease passed; another holder may run it again');
    });
  }

  /** Recording an outcome can fail (database down): the lease then lapses and the job runs again. */
  private async settle(record: () => Promise<void>): Promise<void> {
    try {
      await record();
    } catch (err) {
      this.logger.warn({ err }, 'could not record a job outcome; it will run again after its lease');
    }
  }

  private async renew(): Promise<void> {
    for (const h of this.handlers) {
      const ids = [...this.running.values()].filter((r) => r.handler === h).map((r) => r.job.id);
      await this.queue.renew(ids, this.holder, leaseOf(h)).catch((err: unknown) => this.logger.warn({ err, queue: h.queue }, 'renewing job leases failed'));
    }
  }
}

const leaseOf = (h: JobHandler): number => h.leaseMs ?? DEFAULT_LEASE_MS;
