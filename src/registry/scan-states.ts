import type { Kysely } from 'kysely';
import { ScanQueries, type ScanHead } from '../meta/scan-queries.js';
import type { Database } from '../meta/schema.js';
import type { Digest } from '../oci/digest.js';
import type { ScanSummary } from '../scan/summary.js';
import type { ScanProgress } from './scan-progress.js';
import { SCAN_QUEUES } from './scan-on-push.js';

/**
 * Where the scan of one image stands, as the UI's lists and pages show it:
 * its stored summary once scanned, else how far its job got. `not-an-image`:
 * indexes (each child is scanned), signatures, SBOMs and other artifacts.
 */
export type ScanState =
  | { state: 'scanned'; scannedAt: string; database: { updatedAt: string | null }; summary: ScanSummary }
  | { state: ScanProgress['state'] | 'not-an-image' };

/**
 * The scan states of many digests in two queries (the stored summaries,
 * then the scan jobs of those without one), whatever the number of tags a
 * page shows: the cost of a page is bounded by its size, not the registry's.
 */
export async function scanStates(db: Kysely<Database>, images: Digest[], others: Digest[] = []): Promise<Map<Digest, ScanState>> {
  const out = new Map<Digest, ScanState>(others.map((d) => [d, { state: 'not-an-image' }]));
  const heads = await new ScanQueries(db).heads(images);
  for (const [d, h] of heads) out.set(d, scanned(h));
  const waiting = images.filter((d) => !heads.has(d));
  const jobs = waiting.length === 0 ? [] : await db.selectFrom('jobs').select(['key', 'state', 'attempts']).where('queue', 'in', SCAN_QUEUES).where('key', 'in', waiting).execute();
  for (const d of waiting) out.set(d, { state: progressOf(jobs.filter((j) => j.key === d)) });
  return out;
}

function scanned(h: ScanHead): ScanState {
  return { state: 'scanned', scannedAt: new Date(h.scannedAt).toISOString(), database: { updatedAt: h.dbUpdatedAt ? new Date(h.dbUpdatedAt).toISOString() : null }, summary: JSON.parse(h.summary) as ScanSummary };
}

/** The same precedence as scanProgress: a running job, then a waiting one, then a given-up one. */
function progressOf(jobs: { state: string; attempts: number | bigint }[]): ScanProgress['state'] {
  if (jobs.some((j) => j.state === 'running')) return 'running';
  const ready = jobs.find((j) => j.state === 'ready');
  if (ready) return Number(ready.attempts) > 0 ? 'retrying' : 'queued';
  return jobs.length ? 'failed' : 'none';
}
