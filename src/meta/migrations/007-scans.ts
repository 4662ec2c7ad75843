import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Scan results (scan on push, src/registry/image-scan.ts), one row per
 * manifest digest whatever repositories hold it: a scan is about content.
 * `db_version` is the vulnerability database it was matched against (its
 * content time; 0 without one), `scanner` what took the inventory; a row
 * older than either is rescanned. The report, the CycloneDX SBOM and the
 * inventory (for rematching without reading layers again) are gzipped JSON,
 * each bounded in size; `summary` is the small JSON a pull policy judges by.
 * On PostgreSQL a write notifies every replica, whose cached verdicts go.
 * `jobs_key` finds the job of a digest in any state (the scan API says
 * whether a scan is queued, running or failed).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  await db.schema
    .createTable('scan_results')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('scanner', 'text', (c) => c.notNull())
    .addColumn('db_version', 'bigint', (c) => c.notNull())
    .addColumn('db_updated_at', 'bigint')
    .addColumn('scanned_at', 'bigint', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('report', bytes, (c) => c.notNull())
    .addColumn('sbom', bytes)
    .addColumn('inventory', bytes)
    .execute();
  await db.schema.createIndex('jobs_key').on('jobs').columns(['queue', 'key']).execute();
  if (dialect === 'postgres') {
    await sql`
      CREATE TRIGGER scan_results_changed
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scan_results
      FOR EACH STATEMENT EXECUTE FUNCTION berth_notify_change()`.execute(db);
  }
}
