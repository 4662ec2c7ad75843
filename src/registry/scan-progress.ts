import type { JobQueue } from '../jobs/queue.js';
import type { Digest } from '../oci/digest.js';
import { SCAN_QUEUES } from './scan-on-push.js';

/** Where the scan of a digest without a result stands: what the scan API and a refused pull say. */
export interface ScanProgress {
  /** `retrying`: a run failed and the next waits out its backoff; `failed`: out of attempts; `none`: nothing queued. */
  state: 'queued' | 'running' | 'retrying' | 'failed' | 'none';
  attempts?: number;
  /** When the job was queued. */
  since?: string;
  /** When a retrying job runs again. */
  nextRunAt?: string;
  error?: string;
  /** One clause for people. */
  text: string;
}

/** A failure's message is for people: its first line, cut short. */
const MAX_ERROR = 300;

export async function scanProgress(jobs: JobQueue, digest: Digest): Promise<ScanProgress> {
  const pending = await jobs.about(SCAN_QUEUES, digest);
  const job = pending.find((j) => j.state === 'running') ?? pending.find((j) => j.state === 'ready') ?? pending[0];
  if (!job) return { state: 'none', text: 'no scan is queued (it was pushed while scanning was off: push it again)' };
  const since = new Date(job.createdAt).toISOString();
  const error = job.lastError?.split('\n', 1)[0]!.slice(0, MAX_ERROR);
  if (job.state === 'running') return { state: 'running', attempts: job.attempts, since, text: `its scan is running (queued ${since})` };
  if (job.state === 'dead') return { state: 'failed', attempts: job.attempts, since, ...(error ? { error } : {}), text: `its scan failed ${job.attempts} time(s) and was given up: ${error ?? 'no reason recorded'}` };
  if (job.attempts > 0) {
    const nextRunAt = new Date(job.runAt).toISOString();
    return { state: 'retrying', attempts: job.attempts, since, nextRunAt, ...(error ? { error } : {}), text: `its scan failed (attempt ${job.attempts}: ${error ?? 'no reason recorded'}) and runs again at ${nextRunAt}` };
  }
  return { state: 'queued', attempts: 0, since, text: `its scan is queued (since ${since})` };
}
