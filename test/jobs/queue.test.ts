import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { JobQueue } from '../../src/jobs/queue.js';
import { JobRunner, type JobHandler } from '../../src/jobs/runner.js';
import { migrate, openSqlite, type SqliteMetaDb } from '../../src/meta/database.js';
import { openLeases } from '../../src/meta/lease.js';
import { openPostgres, type PostgresMetaDb } from '../../src/meta/postgres.js';
import { REPO_ROOT, tempDir } from '../helpers/berth.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

type Meta = SqliteMetaDb | PostgresMetaDb;
const quiet = pino({ level: 'silent' });

let postgres: Postgres;
before(async () => {
  postgres = await startPostgres();
});
after(() => postgres.stop());

/** Two "replicas" of one registry: separate connections to one SQLite file, or two pools on one PostgreSQL database. */
const backends: Record<string, () => Promise<{ target: string; open: () => Meta }>> = {
  sqlite: async () => {
    const target = join(tempDir(), 'berth.db');
    return { target, open: () => openSqlite(target) };
  },
  postgres: async () => {
    const target = await postgres.createDatabase();
    return { target, open: () => openPostgres(target) };
  },
};


for (const [kind, make] of Object.entries(backends)) {
  describe(`the job queue on ${kind}`, () => {
    let a: Meta;
    let b: Meta;
    let target: string;
    before(async () => {
      const backend = await make();
      target = backend.target;
      a = backend.open();
      await migrate(a);
      b = backend.open();
    });
    after(async () => {
      await a.close();
      await b.close();
    });
    const queueOf = (m: Meta) => new JobQueue(m.db, m.dialect);

    test('a job enqueued in a transaction exists exactly when the transaction commits', async () => {
      const q = queueOf(a);
      await a.db
        .transaction()
        .execute(async (trx) => {
          await q.enqueue({ queue: 'outbox', key: 'rolled-back', payload: {} }, trx);
          throw new Error('the change failed');
        })
        .catch(() => {});
      await a.db.transaction().execute((trx) => q.enqueue({ queue: 'outbox', key: 'committed', payload: { n: 1 } }, trx));
      const claimed = await q.claim('outbox', 'me', 10_000, 10);
      assert.deepEqual(claimed.map((j) => [j.key, j.payload]), [['committed', { n: 1 }]]);
    });

    test('work already waiting is not queued twice; a job already running does not absorb a newer change', async () => {
      const q = queueOf(a);
      await q.enqueue({ queue: 'dedup', key: 'sha256:x', payload: { v: 1 } });
      await q.enqueue({ queue: 'dedup', key: 'sha256:x', payload: { v: 2 } });
      const [first, ...rest] = await q.claim('dedup', 'me', 10_000, 10);
      assert.equal(rest.length, 0, 'one job for the key');
      assert.deepEqual(first!.payload, { v: 1 });
      await q.enqueue({ queue: 'dedup', key: 'sha256:x', payload: { v: 3 } });
      assert.deepEqual((await q.claim('dedup', 'me', 10_000, 10)).map((j) => j.payload), [{ v: 3 }]);
    });

    test('two replicas running one queue handle every job exactly once', async () => {
      const q = queueOf(a);
      for (let i = 0; i < 120; i++) await q.enqueue({ queue: 'shared', key: `k${i}`, payload: { i } });
      const seen: number[] = [];
      const handler = (): JobHandler => ({
        queue: 'shared',
        concurrency: 4,
        run: async (p) => {
          seen.push((p as { i: number }).i);
          await sleep(Math.random() * 5);
        },
      });
      const runners = [a, b].map((m) => new JobRunner(queueOf(m), openLeases(m), [handler()], quiet, { pollMs: 20 }));
      runners.forEach((r) => r.start());
      await until(async () => (await q.status()).find((s) => s.queue === 'shared')?.succeeded === 120, '120 jobs done');
      await Promise.all(runners.map((r) => r.stop()));
      assert.equal(seen.length, 120, 'no job ran twice');
      assert.deepEqual([...new Set(seen)].sort((x, y) => x - y), Array.from({ length: 120 }, (_, i) => i), 'none was lost');
      const status = (await q.status()).find((s) => s.queue === 'shared')!;
      assert.equal(status.ready + status.running + status.dead, 0);
    });

    test('a job whose holder was killed (kill -9) runs again once its lease has passed', async () => {
      const q = queueOf(a);
      await q.enqueue({ queue: 'crash', key: 'only', payload: { x: 1 } });
      const holder = await claimingProcess(kind, target);
      await holder.kill();
      const done: unknown[] = [];
      const runner = new JobRunner(q, openLeases(a), [{ queue: 'crash', leaseMs: 300, run: async (p) => void done.push(p) }], quiet, { pollMs: 20 });
      runner.start();
      await until(() => done.length === 1, 'the job taken over');
      await runner.stop();
      assert.deepEqual(done, [{ x: 1 }]);
    });

    test('a failing job is retried with backoff, then kept as dead with its last error', async () => {
      const q = queueOf(a);
      await q.enqueue({ queue: 'flaky', key: 'a', payload: {} });
      await q.enqueue({ queue: 'hopeless', key: 'b', payload: {} });
      let flakyRuns = 0;
      let hopelessRuns = 0;
      const runner = new JobRunner(
        q,
        openLeases(a),
        [
          { queue: 'flaky', backoffMs: () => 30, run: async () => void (++flakyRuns < 3 && raise('upstream said 503')) },
          { queue: 'hopeless', maxAttempts: 3, backoffMs: () => 30, run: async () => void (++hopelessRuns, raise('no such host')) },
        ],
        quiet,
        { pollMs: 20 },
      );
      runner.start();
      await until(async () => {
        const s = await q.status();
        return s.find((x) => x.queue === 'flaky')?.succeeded === 1 && s.find((x) => x.queue === 'hopeless')?.dead === 1;
      }, 'flaky done, hopeless dead');
      await runner.stop();
      assert.equal(flakyRuns, 3);
      assert.equal(hopelessRuns, 3, 'no run after the last attempt');
      const hopeless = (await q.status()).find((x) => x.queue === 'hopeless')!;
      assert.equal(hopeless.lastError, 'no such host');
      assert.equal(hopeless.failed, 3);
      const flaky = (await q.status()).find((x) => x.queue === 'flaky')!;
      assert.ok(flaky.lastSuccessAt !== null && flaky.lastError === 'upstream said 503');
    });

    test('an ordered queue runs one job at a time across replicas, in enqueue order, a retry holding back the rest', async () => {
      const q = queueOf(a);
      for (let i = 0; i < 12; i++) await q.enqueue({ queue: 'ordered', key: `e${i}`, payload: { i } });
      const order: number[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      let failedOnce = false;
      const handler = (): JobHandler => ({
        queue: 'ordered',
        ordered: true,
        backoffMs: () => 50,
        run: async (p) => {
          const i = (p as { i: number }).i;
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await sleep(3);
          inFlight--;
          if (i === 4 && !failedOnce) {
            failedOnce = true;
            throw new Error('receiver down');
          }
          order.push(i);
        },
      });
      const runners = [a, b].map((m) => new JobRunner(queueOf(m), openLeases(m, 2000), [handler()], quiet, { pollMs: 15 }));
      runners.forEach((r) => r.start());
      await until(() => order.length === 12, 'all delivered');
      await Promise.all(runners.map((r) => r.stop()));
      assert.deepEqual(order, Array.from({ length: 12 }, (_, i) => i));
      assert.equal(maxInFlight, 1);
    });

    test('stopping gives running jobs back; the next start runs them, the interrupted attempt not counted', async () => {
      const q = queueOf(a);
      await q.enqueue({ queue: 'slow', key: 'one', payload: {} });
      let started = 0;
      const slow: JobHandler = {
        queue: 'slow',
        maxAttempts: 1,
        run: (_p, { signal }) => {
          started++;
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopping'))));
        },
      };
      const first = new JobRunner(q, openLeases(a), [slow], quiet, { pollMs: 20, stopTimeoutMs: 50 });
      first.start();
      await until(() => started === 1, 'the job started');
      await first.stop();
      assert.equal((await q.status()).find((s) => s.queue === 'slow')!.ready, 1, 'given back, not buried');
      let finished = false;
      const second = new JobRunner(q, openLeases(a), [{ queue: 'slow', maxAttempts: 1, run: async () => void (finished = true) }], quiet, { pollMs: 20 });
      second.start();
      await until(() => finished, 'run again');
      await second.stop();
    });
  });
}

function raise(message: string): never {
  throw new Error(message);
}

/** Another process that claims every job of queue `crash` with a 300 ms lease and then hangs until killed. */
async function claimingProcess(kind: string, target: string): Promise<{ kill(): Promise<void> }> {
  const dist = join(REPO_ROOT, 'dist/src');
  const open =
    kind === 'postgres'
      ? `(await import(${JSON.stringify(join(dist, 'meta/postgres.js'))})).openPostgres(process.argv[1])`
      : `(await import(${JSON.stringify(join(dist, 'meta/database.js'))})).openSqlite(process.argv[1])`;
  const script = `
    const { JobQueue } = await import(${JSON.stringify(join(dist, 'jobs/queue.js'))});
    const meta = ${open};
    const jobs = await new JobQueue(meta.db, meta.dialect).claim('crash', 'doomed', 300, 10);
    console.log(jobs.length);
    await new Promise(() => {});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const claimed = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`claiming process exited with ${code}`)));
  });
  assert.equal(claimed, '1', 'the other process holds the job');
  return {
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
