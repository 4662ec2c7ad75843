import type { Kysely } from 'kysely';
import type { Leases } from '../meta/lease.js';
import type { Database } from '../meta/schema.js';

/** The longest a due task waits for a timer to notice it. */
const MAX_TICK_MS = 60_000;

export interface Scheduled {
  /** Names the task across processes: one run per interval for each name. */
  name: string;
  intervalMs: number;
  run(): Promise<void>;
  onError(err: unknown): void;
}

/**
 * Runs a task about every `intervalMs` once across every process that shares
 * the metadata database (worker processes, replicas). Each process looks
 * several times per interval; whichever finds the task due takes its lease
 * and records the start, so the others find it not due. A lease alone would
 * not do: it keeps runs apart but lets each process run once per interval.
 * Returns a stop function.
 */
export function every(db: Kysely<Database>, leases: Leases, task: Scheduled): () => void {
  if (task.intervalMs === 0) return () => {};
  const tick = Math.min(MAX_TICK_MS, Math.max(50, task.intervalMs / 4));
  // Half a tick of slack: the recorded start is a little later than the tick that found the task due.
  const dueAfter = task.intervalMs - tick / 2;
  const timer = setInterval(() => {
    leases
      .withLease(`schedule:${task.name}`, async () => {
        const now = Date.now();
        const row = await db.selectFrom('schedules').select('last_run_at').where('name', '=', task.name).executeTakeFirst();
        if (row && now - Number(row.last_run_at) < dueAfter) return;
        await db
          .insertInto('schedules')
          .values({ name: task.name, last_run_at: now })
          .onConflict((oc) => oc.column('name').doUpdateSet({ last_run_at: now }))
          .execute();
        // The first sighting starts the clock: a new registry (or a new task) first runs one interval after it started.
        if (row) await task.run();
      })
      .catch(task.onError);
  }, tick);
  timer.unref();
  return () => clearInterval(timer);
}
