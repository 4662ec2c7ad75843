import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { every } from '../../src/jobs/schedule.js';
import { migrate, openSqlite, type SqliteMetaDb } from '../../src/meta/database.js';
import { openLeases } from '../../src/meta/lease.js';
import { openPostgres, type PostgresMetaDb } from '../../src/meta/postgres.js';
import { tempDir } from '../helpers/berth.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

type Meta = SqliteMetaDb | PostgresMetaDb;

let postgres: Postgres;
before(async () => {
  postgres = await startPostgres();
});
after(() => postgres.stop());

const backends: Record<string, () => Promise<() => Meta>> = {
  sqlite: async () => {
    const file = join(tempDir(), 'berth.db');
    return () => openSqlite(file);
  },
  postgres: async () => {
    const url = await postgres.createDatabase();
    return () => openPostgres(url);
  },
};

const INTERVAL_MS = 400;

for (const [kind, make] of Object.entries(backends)) {
  describe(`scheduled tasks on ${kind}`, () => {
    test('three processes sharing one database run a task once per interval between them, not once each', async () => {
      const open = await make();
      const metas = [open(), open(), open()];
      await migrate(metas[0]!);
      // When each run started, as the task saw it, and in which process.
      const runs: { at: number; process: number }[] = [];
      const stops = metas.map((meta, process) =>
        every(meta.db, openLeases(meta), {
          name: 'tidy',
          intervalMs: INTERVAL_MS,
          run: async () => {
            runs.push({ at: Date.now(), process });
          },
          onError: (err) => assert.fail(err as Error),
        }),
      );
      try {
        await until(() => runs.length >= 6, 'six runs', 60_000);
      } finally {
        stops.forEach((stop) => stop());
        await Promise.all(metas.map((m) => m.close()));
      }
      // Each process looks four times per interval: one timer per process would run the task three times as often.
      const gaps = runs.slice(1).map((r, i) => r.at - runs[i]!.at);
      assert.ok(gaps.every((g) => g >= INTERVAL_MS * 0.8), `runs closer than an interval apart: ${gaps.join(', ')} ms`);
    });
  });
}

describe('scheduled tasks', () => {
  test('a new database starts the clock: the first look at a task records it without running it', async () => {
    const meta = openSqlite(join(tempDir(), 'berth.db'));
    await migrate(meta);
    let ran = 0;
    const stop = every(meta.db, openLeases(meta), { name: 'first', intervalMs: 2000, run: async () => void ran++, onError: () => {} });
    try {
      const row = () => meta.db.selectFrom('schedules').select('last_run_at').where('name', '=', 'first').executeTakeFirst();
      await until(async () => (await row()) !== undefined, 'the schedule row');
      // A restart must not run a day's GC at once: the run comes one interval after the first look.
      assert.equal(ran, 0);
    } finally {
      stop();
      await meta.close();
    }
  });
});
