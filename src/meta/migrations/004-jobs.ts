import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';
import { withId } from './columns.js';

/**
 * The one durable job queue (src/jobs/). A job is ready, running (under a
 * lease that expires if its holder dies) or dead (out of attempts, kept for
 * inspection). At most one *ready* job per (queue, key): enqueueing work that
 * is already waiting is a no-op, while a job already running does not absorb
 * a newer change to the same thing. `job_queues` keeps what status pages
 * show after the rows are gone: the last success and the last error.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await withId(db.schema.createTable('jobs'), dialect)
    .addColumn('queue', 'text', (c: any) => c.notNull())
    .addColumn('key', 'text', (c: any) => c.notNull())
    .addColumn('payload', 'text', (c: any) => c.notNull())
    .addColumn('state', 'text', (c: any) => c.notNull())
    .addColumn('attempts', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'bigint', (c: any) => c.notNull())
    .addColumn('lease_holder', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c: any) => c.notNull())
    .addColumn('updated_at', 'bigint', (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_claim').on('jobs').columns(['queue', 'state', 'id']).execute();
  await db.schema.createIndex('jobs_ready_key').on('jobs').columns(['queue', 'key']).unique().where(sql<boolean>`state = 'ready'`).execute();

  await db.schema
    .createTable('job_queues')
    .addColumn('queue', 'text', (c) => c.primaryKey())
    .addColumn('succeeded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'bigint')
    .execute();
}
