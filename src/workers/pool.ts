import { Piscina } from 'piscina';
import { RegistryError } from '../oci/errors.js';
import type { Config } from '../config/config.js';
import type { TaskInput, TaskName, TaskOutcome, TaskOutput } from './tasks.js';

export interface WorkerPoolOptions {
  /** Threads at most; each holds its own database connection. */
  threads: number;
  /** Tasks waiting for a thread at most; beyond it callers are refused at once (429), not queued. */
  maxQueue: number;
  /** A thread idle this long exits, so an idle registry holds no threads and no extra connections. */
  idleMs?: number;
  /** Heap limits of each thread: a task that needs more ends its thread (and fails), never the process. */
  maxHeapBytes?: number;
}

/**
 * Worker threads for work whose cost grows with the registry (usage
 * accounting, GC marking, fsck, scans): the event loop only sends the task
 * and awaits the answer, so a probe `GET /v2/` stays fast while they run
 * (invariant 6). Each thread opens its own store and metadata connections
 * from the same config as the server.
 */
export class WorkerPool {
  private readonly pool: Piscina;

  constructor(config: Config, opts: WorkerPoolOptions) {
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      workerData: { config },
      minThreads: 0,
      maxThreads: opts.threads,
      maxQueue: opts.maxQueue,
      idleTimeout: opts.idleMs ?? 30_000,
      // Threads keep database connections (sockets for PostgreSQL) open between tasks.
      atomics: 'disabled',
      ...(opts.maxHeapBytes ? { resourceLimits: { maxOldGenerationSizeMb: Math.ceil(opts.maxHeapBytes / 2 ** 20) } } : {}),
    });
  }

  /** `signal` gives up the task: taken out of the queue, or its thread ended if it is running. */
  async run<N extends TaskName>(name: N, input: TaskInput<N>, signal?: AbortSignal): Promise<TaskOutput<N>> {
    if (this.pool.queueSize >= this.pool.options.maxQueue) throw busy();
    const outcome = (await this.pool.run({ name, input }, signal ? { signal } : {})) as TaskOutcome<TaskOutput<N>>;
    if (outcome.ok) return outcome.value;
    const e = outcome.error;
    throw new RegistryError(e.code, e.message, { status: e.status, detail: e.detail, headers: e.headers });
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}

const busy = () =>
  new RegistryError('TOOMANYREQUESTS', 'the registry is busy with other expensive requests; try again shortly', { headers: { 'Retry-After': '2' } });

