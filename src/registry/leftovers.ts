import type { UploadId } from '../store/blob-store.js';
import type { RegistryContext } from './context.js';

const SESSION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Entries looked at per run: a store full of leftovers is cleaned over several runs, not in one unbounded pass. */
const MAX_PER_RUN = 10_000;

export interface Leftover {
  name: string;
  detail: string;
}

/**
 * What crashes leave in the uploads area, untouched since `before`: bytes of
 * a session whose row is gone (the process died between the two), and
 * temporary files of writes that never finished. A live session always has
 * its row, and a temporary file lives for one request, so neither can be
 * mistaken for one in use once older than the upload expiry.
 */
export async function* uploadLeftovers(ctx: RegistryContext, before: number): AsyncIterable<Leftover> {
  let n = 0;
  for await (const entry of ctx.store.uploadEntries()) {
    if (++n > MAX_PER_RUN) return;
    if (entry.modifiedAt.getTime() >= before) continue;
    if (!SESSION.test(entry.name)) yield { name: entry.name, detail: 'a temporary file of a write that never finished' };
    else if (!(await ctx.meta.upload(entry.name as UploadId))) yield { name: entry.name, detail: 'the bytes of an upload session that no longer exists' };
  }
}

/** Removes the leftovers older than the upload expiry; returns how many went. */
export async function removeUploadLeftovers(ctx: RegistryContext): Promise<number> {
  let removed = 0;
  for await (const l of uploadLeftovers(ctx, ctx.now() - ctx.limits.uploadExpiryMs)) {
    await ctx.store.removeUploadEntry(l.name);
    removed++;
  }
  return removed;
}
