import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrate, openSqlite, type SqliteMetaDb } from '../../src/meta/database.js';
import { openLeases } from '../../src/meta/lease.js';
import { openPostgres, type PostgresMetaDb } from '../../src/meta/postgres.js';
import { REPO_ROOT, tempDir } from '../helpers/berth.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';

let postgres: Postgres;
let pgUrl: string;

before(async () => {
  postgres = await startPostgres();
  pgUrl = await postgres.createDatabase();
  const m = openPostgres(pgUrl);
  await migrate(m);
  await m.close();
});
after(() => postgres.stop());

/**
 * Another process (a replica) that takes the lease and holds it until killed.
 * Resolves once it holds the lease.
 */
async function holderProcess(kind: 'postgres' | 'sqlite', target: string): Promise<{ kill(): Promise<void> }> {
  const dist = join(REPO_ROOT, 'dist/src/meta');
  const script = `
    const { openLeases } = await import(${JSON.stringify(join(dist, 'lease.js'))});
    const meta = ${kind === 'postgres' ? `(await import(${JSON.stringify(join(dist, 'postgres.js'))})).openPostgres(process.argv[1])` : `(await import(${JSON.stringify(join(dist, 'database.js'))})).openSqlite(process.argv[1])`};
    await openLeases(meta, 1500).withLease('job', () => { console.log('holding'); return new Promise(() => {}); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`lease holder exited with ${code}`)));
  });
  return {
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function runs(meta: PostgresMetaDb | SqliteMetaDb): Promise<boolean> {
  const r = await openLeases(meta, 1500).withLease('job', async () => 'ran');
  return r.held;
}

describe('leases for scheduled jobs', () => {
  test('PostgreSQL: one holder at a time; a holder killed with -9 frees the lease at once', async () => {
    const meta = openPostgres(pgUrl);
    try {
      const holder = await holderProcess('postgres', pgUrl);
      assert.equal(await runs(meta), false, 'a second replica must not run the job while the first holds it');
      await holder.kill();
      // The server notices the dead connection and drops its advisory lock; poll briefly for that.
      let ran = false;
      for (let i = 0; i < 100 && !ran; i++) {
        ran = await runs(meta);
        if (!ran) await sleep(50);
      }
      assert.ok(ran, 'the lease was never freed after its holder died');
    } finally {
      await meta.close();
    }
  });

  test('PostgreSQL: the lease is released when the job ends, also when it throws', async () => {
    const a = openPostgres(pgUrl);
    const b = openPostgres(pgUrl);
    try {
      const leases = openLeases(a);
      await assert.rejects(leases.withLease('job', async () => Promise.reject(new Error('job failed'))), /job failed/);
      assert.equal(await runs(b), true);
      const nested = await leases.withLease('job', () => runs(b));
      assert.deepEqual(nested, { held: true, value: false });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('SQLite: a killed holder blocks the job only until its lease expires', async () => {
    const path = join(tempDir(), 'berth.db');
    const meta = openSqlite(path);
    await migrate(meta);
    try {
      const holder = await holderProcess('sqlite', path);
      assert.equal(await runs(meta), false);
      await holder.kill();
      let ran = false;
      for (let i = 0; i < 100 && !ran; i++) {
        ran = await runs(meta);
        if (!ran) await sleep(100);
      }
      assert.ok(ran, 'the lapsed lease was never taken over');
    } finally {
      await meta.close();
    }
  });
});
