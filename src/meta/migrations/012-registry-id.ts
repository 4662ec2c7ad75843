import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';

/**
 * `registry_id`: one row naming this registry, whichever of its processes
 * (`--workers`) or replicas answers. Chosen once, here, so every process
 * sharing the database reads the same name: the pull-through cache sends it
 * in `Via`, and a request carrying it came back to this registry, however
 * many processes stand behind its URL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('registry_id').addColumn('hop', 'text', (c) => c.primaryKey()).execute();
  await db.insertInto('registry_id').values({ hop: `berth-${randomBytes(8).toString('hex')}` }).execute();
}
