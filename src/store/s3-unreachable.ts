import type { S3Client } from '@aws-sdk/client-s3';
import { RegistryError } from '../oci/errors.js';

/** Failures that mean the bucket's server could not be reached or did not answer: nothing the request did wrong. */
const UNREACHABLE = new Set(['ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

function isUnreachable(e: unknown): boolean {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  // A server that answered at all (any status) is not unreachable; its error keeps its own meaning.
  if (err.$metadata?.httpStatusCode !== undefined) return false;
  return err.name === 'TimeoutError' || (err.code !== undefined && UNREACHABLE.has(err.code));
}

/**
 * Turns "the bucket did not answer" into a typed 503 once the SDK's own
 * retries are spent, so a client learns the storage is down (and may retry)
 * instead of seeing a 500 that reads like a bug in Berth.
 */
export function reportUnreachable(client: S3Client, where: string, timeoutMs: number): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        const why = (e as Error).name === 'TimeoutError' ? `did not answer within ${timeoutMs / 1000} s` : `could not be reached (${(e as { code?: string }).code})`;
        throw new RegistryError('UNAVAILABLE', `blob storage is unavailable: S3 at ${where} ${why}; try again later`, {
          headers: { 'Retry-After': '10' },
          cause: e,
        });
      }
    },
    { step: 'initialize', name: 'berthReportUnreachable' },
  );
}
