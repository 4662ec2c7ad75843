import type { Kysely } from 'kysely';

/**
 * When each scheduled task last started. Every process runs the same timers;
 * this row is what makes a task run once per interval across all of them
 * (worker processes of one server, replicas), not once per process.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_run_at', 'bigint', (c) => c.notNull())
    .execute();
}
