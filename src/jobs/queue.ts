import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Dialect } from '../meta/dialect.js';
import type { Database } from '../meta/schema.js';

export interface NewJob {
  queue: string;
  /** What the job is about (a digest, an event id). A ready job with the same queue and key makes this one a no-op. */
  key: string;
  /** JSON-serialisable. */
  payload: unknown;
  /** Not before (epoch ms); default now. */
  runAt?: number;
}

export interface ClaimedJob {
  id: number;
  queue: string;
  key: string;
  payload: unknown;
  /** This run included. */
  attempts: number;
  createdAt: number;
}

export interface QueueStatus {
  queue: string;
  ready: number;
  running: number;
  dead: number;
  /** Enqueue time of the oldest job not yet done: how far behind the queue is. */
  oldestPendingAt: number | null;
  succeeded: number;
  failed: number;
  /** Jobs refused because the queue was full (see `dropped`). */
  dropped: number;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

type Db = Kysely<Database> | Transaction<Database>;

/** The partial unique index's predicate, as a literal: SQLite matches an upsert's target to the index by its text. */
const READY = sql<boolean>`state = 'ready'`;

/** Longest error text kept per job: an error message is for people, not a dump. */
const MAX_ERROR = 2000;

/**
 * The one durable job queue, in the metadata database (migration 004).
 * At-least-once: a job leaves the table only when its handler succeeded; a
 * job whose holder died (kill -9, a replica lost) is taken over once its
 * lease has passed, so handlers must be idempotent. Safe across processes
 * and replicas: a claim is one UPDATE, and on PostgreSQL concurrent claimers
 * skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite has one writer.
 */
export class JobQueue {
  constructor(
    readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Adds a job. Pass the transaction of the change the job is about (the
   * outbox pattern): the job then exists exactly when the change committed.
   */
  async enqueue(job: NewJob, db: Db = this.db): Promise<void> {
    const now = this.now();
    await db
      .insertInto('jobs')
      .values({ queue: job.queue, key: job.key, payload: JSON.stringify(job.payload), state: 'ready', run_at: job.runAt ?? now, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['queue', 'key']).where(READY).doNothing())
      .execute();
  }

  /** Up to `limit` due jobs of `queue`, oldest first, now running under `holder`'s lease. */
  async claim(queue: string, holder: string, leaseMs: number, limit: number): Promise<ClaimedJob[]> {
    const now = this.now();
    let due = this.db.selectFrom('jobs').select('id').where('queue', '=', queue).where(isDue(now)).orderBy('id').limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.take(due, holder, leaseMs, now);
  }

  /**
   * For a queue whose jobs must run one at a time in enqueue order: the
   * oldest job that is not dead, if it is due. A job waiting out its backoff
   * holds back the ones behind it. The caller holds the queue's lease.
   */
  async claimHead(queue: string, holder: string, leaseMs: number): Promise<ClaimedJob | undefined> {
    const head = this.db.selectFrom('jobs').select('id').where('queue', '=', queue).where('state', '<>', 'dead').orderBy('id').limit(1);
    const [job] = await this.take(head, holder, leaseMs, this.now());
    return job;
  }

  private async take(ids: SelectQueryBuilder<Database, 'jobs', { id: number }>, holder: string, leaseMs: number, now: number): Promise<ClaimedJob[]> {
    const rows = await this.db
      .updateTable('jobs')
      .set((eb) => ({ state: 'running', lease_holder: holder, lease_until: now + leaseMs, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', 'in', ids)
      // Again on the row itself: a claimer that waited for another's lock re-checks it and takes nothing.
      .where(isDue(now))
      .returning(['id', 'queue', 'key', 'payload', 'attempts', 'created_at'])
      .execute();
    return rows
      .map((r) => ({ id: Number(r.id), queue: r.queue, key: r.key, payload: JSON.parse(r.payload) as unknown, attempts: Number(r.attempts), createdAt: Number(r.created_at) }))
      .sort((a, b) => a.id - b.id);
  }

  /** Extends the leases of jobs `holder` is still running. */
  async renew(ids: number[], holder: string, leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('jobs').set({ lease_until: this.now() + leaseMs }).where('id', 'in', ids).where('lease_holder', '=', holder).where('state', '=', 'running').execute();
  }

  /** Done: the row goes. False when the lease was lost meanwhile (another holder has the job now). */
  async complete(job: ClaimedJob, holder: string): Promise<boolean> {
    const r = await this.db.deleteFrom('jobs').where('id', '=', job.id).where('lease_holder', '=', holder).where('state', '=', 'running').executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await this.record(job.queue, { succeeded: 1, last_success_at: this.now() });
    return true;
  }

  /** Failed, to be tried again after `delayMs`. */
  async retry(job: ClaimedJob, holder: string, error: string, delayMs: number): Promise<void> {
    const now = this.now();
    const message = error.slice(0, MAX_ERROR);
    await this.requeue(job, holder, { run_at: now + delayMs, last_error: message });
    await this.record(job.queue, { failed: 1, last_error: message, last_error_at: now });
  }

  /** Out of attempts: kept as dead for inspection, never run again. */
  async bury(job: ClaimedJob, holder: string, error: string): Promise<void> {
    const now = this.now();
    const message = error.slice(0, MAX_ERROR);
    await this.db
      .updateTable('jobs')
      .set({ state: 'dead', lease_holder: null, lease_until: null, last_error: message, updated_at: now })
      .where('id', '=', job.id)
      .where('lease_holder', '=', holder)
      .execute();
    await this.record(job.queue, { failed: 1, last_error: message, last_error_at: now });
  }

  /** Gives a job back unrun (shutdown): ready again at once, the attempt not counted. */
  async release(job: ClaimedJob, holder: string): Promise<void> {
    await this.requeue(job, holder, { run_at: this.now(), attempts: Math.max(0, job.attempts - 1) });
  }

  /**
   * Makes a running job of ours ready again. If a newer job for the same key
   * is already waiting, that one covers this one, and this row goes instead.
   */
  private async requeue(job: ClaimedJob, holder: string, set: { run_at: number; last_error?: string; attempts?: number }): Promise<void> {
    try {
      await this.db
        .updateTable('jobs')
        .set({ ...set, state: 'ready', lease_holder: null, lease_until: null, updated_at: this.now() })
        .where('id', '=', job.id)
        .where('lease_holder', '=', holder)
        .where('state', '=', 'running')
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('jobs as w').select('w.id').where('w.queue', '=', job.queue).where('w.key', '=', job.key).where('w.state', '=', 'ready'))),
        )
        .execute();
    } catch (e) {
      // Enqueued between the check and the update (the unique index says so): covered all the same.
      if (!isUniqueViolation(e)) throw e;
    }
    // Still running under us only when a waiting job covers it.
    await this.db.deleteFrom('jobs').where('id', '=', job.id).where('lease_holder', '=', holder).where('state', '=', 'running').execute();
  }

  /** Counts a job not enqueued because its queue was full, in the transaction that would have enqueued it. */
  async dropped(queue: string, db: Db = this.db): Promise<void> {
    await this.record(queue, { dropped: 1 }, db);
  }

  /**
   * Jobs of `queue` not yet done, counting at most `max` of them (an index
   * range of at most that many entries, however long the queue).
   */
  async pending(queue: string, max: number): Promise<number> {
    const r = await this.db
      .selectFrom((eb) => eb.selectFrom('jobs').select('id').where('queue', '=', queue).where('state', '<>', 'dead').limit(max).as('p'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  status(): Promise<QueueStatus[]> {
    return queueStatus(this.db);
  }

  /** Removes dead jobs last touched before `before`. */
  async purgeDead(before: number): Promise<number> {
    const r = await this.db.deleteFrom('jobs').where('state', '=', 'dead').where('updated_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  private async record(queue: string, change: { succeeded?: number; failed?: number; dropped?: number; last_success_at?: number; last_error?: string; last_error_at?: number }, db: Db = this.db): Promise<void> {
    await db
      .insertInto('job_queues')
      .values({ queue, succeeded: change.succeeded ?? 0, failed: change.failed ?? 0, dropped: change.dropped ?? 0, last_success_at: change.last_success_at ?? null, last_error: change.last_error ?? null, last_error_at: change.last_error_at ?? null })
      .onConflict((oc) =>
        oc.column('queue').doUpdateSet((eb) => ({
          succeeded: eb('job_queues.succeeded', '+', change.succeeded ?? 0),
          failed: eb('job_queues.failed', '+', change.failed ?? 0),
          dropped: eb('job_queues.dropped', '+', change.dropped ?? 0),
          ...(change.last_success_at !== undefined ? { last_success_at: change.last_success_at } : {}),
          ...(change.last_error !== undefined ? { last_error: change.last_error, last_error_at: change.last_error_at ?? null } : {}),
        })),
      )
      .execute();
  }
}

/**
 * Every queue's counts and last outcomes. It reads every job row: run it
 * where the event loop does not wait for it (a worker thread).
 */
export async function queueStatus(db: Kysely<Database>): Promise<QueueStatus[]> {
  const counts = await db
    .selectFrom('jobs')
    .select((eb) => ['queue', 'state', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .groupBy(['queue', 'state'])
    .execute();
  const queues = await db.selectFrom('job_queues').selectAll().execute();
  const byQueue = new Map<string, QueueStatus>();
  const entry = (queue: string): QueueStatus => {
    let s = byQueue.get(queue);
    if (!s) byQueue.set(queue, (s = { queue, ready: 0, running: 0, dead: 0, oldestPendingAt: null, succeeded: 0, failed: 0, dropped: 0, lastSuccessAt: null, lastError: null, lastErrorAt: null }));
    return s;
  };
  for (const q of queues) {
    Object.assign(entry(q.queue), {
      succeeded: Number(q.succeeded),
      failed: Number(q.failed),
      dropped: Number(q.dropped),
      lastSuccessAt: q.last_success_at === null ? null : Number(q.last_success_at),
      lastError: q.last_error,
      lastErrorAt: q.last_error_at === null ? null : Number(q.last_error_at),
    });
  }
  for (const c of counts) {
    const s = entry(c.queue);
    s[c.state] = Number(c.n);
    if (c.state !== 'dead') s.oldestPendingAt = Math.min(s.oldestPendingAt ?? Infinity, Number(c.oldest));
  }
  return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}

/** Ready and due, or running under a lease that has passed. */
const isDue =
  (now: number) =>
  (eb: ExpressionBuilder<Database, 'jobs'>) =>
    eb.or([eb.and([eb('state', '=', 'ready'), eb('run_at', '<=', now)]), eb.and([eb('state', '=', 'running'), eb('lease_until', '<', now)])]);

/** SQLite's and PostgreSQL's words for a duplicate key. */
function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}
