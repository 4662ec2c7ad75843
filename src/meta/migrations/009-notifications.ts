import type { Kysely } from 'kysely';

/**
 * Events dropped per queue because its outbox was full
 * (`notifications.maxPending`): kept beside the queue's other counts, so
 * every replica's drops show in one status page.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job_queues').addColumn('dropped', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}
