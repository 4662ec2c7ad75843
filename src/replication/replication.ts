import type { Logger } from 'pino';
import { isPushRule, ruleName, type ReplicationConfig } from '../config/replication.js';
import type { JobQueue, QueueStatus } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Leases } from '../meta/lease.js';
import type { RegistryContext } from '../registry/context.js';
import { pushHandler, pushListener, pushSignatureListener } from './push.js';
import type { PushRule, SyncRule } from './rules.js';
import { scheduleSync, syncHandler } from './sync.js';

/** One rule as `berth replication status` shows it: what it copies where, and how its queue stands. Never credentials. */
export interface RuleStatus {
  name: string;
  mode: 'push' | 'sync';
  repos: string[];
  tags: string[];
  /** The target (push) or upstream (sync). */
  remote: string;
  /** What repository names get there (push) or here (sync) in front of their own; '' for none. */
  prefix: string;
  deletes?: boolean;
  intervalMs?: number;
  /** Jobs waiting (or waiting out a backoff), running, and given up. */
  ready: number;
  running: number;
  dead: number;
  succeeded: number;
  failed: number;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** How long the oldest unfinished job has waited: how far the remote is behind (0: caught up). */
  lagMs: number;
}

export interface Replication {
  handlers: JobHandler[];
  /** Starts the sync schedules; `poke` makes the job runner look at once. */
  start(poke: () => void): void;
  stop(): void;
  /** Each rule with its queue's figures (`JobQueue.status()` or the worker task that computes it off the event loop). */
  status(queues: QueueStatus[]): RuleStatus[];
}

export interface ReplicationDeps {
  ctx: RegistryContext;
  jobs: JobQueue;
  leases: Leases;
  logger: Logger;
  now?: () => number;
}

/**
 * The `replication:` rules wired to the job queue: push rules listen to
 * pushes and deletes (enqueueing in their transactions), sync rules run on
 * a schedule. Call before the server takes requests, so no push goes
 * unnoticed.
 */
export function openReplication(config: ReplicationConfig, deps: ReplicationDeps): Replication {
  const push: PushRule[] = [];
  const sync: SyncRule[] = [];
  config.forEach((c, i) => {
    const name = ruleName(c, i);
    if (isPushRule(c)) push.push({ name, queue: `replication:${name}`, config: c });
    else sync.push({ name, queue: `sync:${name}`, config: c });
  });
  if (push.length > 0) {
    deps.ctx.events.listen(pushListener(push, deps.jobs));
    deps.ctx.events.listenSignatures(pushSignatureListener(push, deps.jobs));
  }
  const handlers = [...push.map((r) => pushHandler(r, deps.ctx, deps.logger)), ...sync.map((r) => syncHandler(r, deps.ctx, deps.jobs, deps.logger))];
  let stops: (() => void)[] = [];
  return {
    handlers,
    start(poke) {
      stops = sync.map((r) => scheduleSync(r, deps.jobs, deps.leases, poke, deps.logger));
    },
    stop() {
      for (const s of stops) s();
    },
    status(all) {
      const queues = new Map(all.map((q) => [q.queue, q]));
      const now = (deps.now ?? Date.now)();
      return [
        ...push.map((r) => ({ ...describe(r, 'push'), remote: r.config.to.url, prefix: r.config.to.prefix, deletes: r.config.deletes, ...figures(queues.get(r.queue), now) })),
        ...sync.map((r) => ({ ...describe(r, 'sync'), remote: r.config.from.url, prefix: r.config.prefix, intervalMs: r.config.interval, ...figures(queues.get(r.queue), now) })),
      ];
    },
  };
}

const describe = (r: PushRule | SyncRule, mode: 'push' | 'sync') => ({ name: r.name, mode, repos: r.config.repos, tags: r.config.tags });

function figures(q: QueueStatus | undefined, now: number) {
  const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());
  return {
    ready: q?.ready ?? 0,
    running: q?.running ?? 0,
    dead: q?.dead ?? 0,
    succeeded: q?.succeeded ?? 0,
    failed: q?.failed ?? 0,
    lastSuccessAt: iso(q?.lastSuccessAt),
    lastError: q?.lastError ?? null,
    lastErrorAt: iso(q?.lastErrorAt),
    lagMs: q?.oldestPendingAt == null ? 0 : Math.max(0, now - q.oldestPendingAt),
  };
}
