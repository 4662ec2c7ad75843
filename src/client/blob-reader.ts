import { createHash } from 'node:crypto';
import { algorithmOf, hexOf } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { DigestMismatchError, remoteError } from './errors.js';
import { describeNetworkError } from './http.js';
import { pullScope, type RegistryClient } from './registry.js';

const MAX_RESUMES = 5;

/**
 * Yields a blob's bytes, resuming with `Range: bytes=N-` when the connection
 * breaks, and throws at the end unless size and digest match: the caller
 * must treat its output as provisional until the stream ends cleanly.
 * From `start` > 0 (the caller resumes a partial download and holds the
 * bytes before it) only the size is checked here; the caller hashes the whole.
 */
export async function* readVerified(client: RegistryClient, repo: string, desc: Descriptor, onBytes?: (n: number) => void, start = 0): AsyncGenerator<Buffer> {
  const hash = createHash(algorithmOf(desc.digest));
  let offset = start;
  let resumes = 0;
  for (;;) {
    const res = await client.request(`/v2/${repo}/blobs/${desc.digest}`, {
      scopes: [pullScope(repo)],
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    });
    if (!res.ok || !res.body) throw await remoteError(res, `blob ${desc.digest} from ${client.registry}/${repo}`);
    const resent = resentBytes(offset, res.status);
    const body = res.body[Symbol.asyncIterator]();
    let lost: unknown;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await body.next();
      } catch (e) {
        // Only the network is retried: an error of whoever consumes the stream (a full disk) is thrown at the yield below.
        lost = e;
        break;
      }
      if (next.done) break;
      const chunk = resent.rest(next.value);
      if (chunk.length === 0) continue;
      offset += chunk.length;
      if (offset > desc.size) throw new DigestMismatchError(`blob ${desc.digest} is larger than the ${desc.size} bytes its descriptor says`);
      hash.update(chunk);
      onBytes?.(chunk.length);
      yield chunk;
    }
    if (offset >= desc.size) break;
    if (++resumes > MAX_RESUMES) {
      if (lost) throw lost;
      break;
    }
    if (lost) client.http.notify(`connection lost at byte ${offset} of ${desc.digest.slice(0, 19)} (${describeNetworkError(lost)}); resuming`);
  }
  const actual = hash.digest('hex');
  if (offset !== desc.size || (start === 0 && actual !== hexOf(desc.digest))) {
    throw new DigestMismatchError(
      `blob ${desc.digest} from ${client.registry}/${repo} failed verification (got ${offset} bytes hashing to ${algorithmOf(desc.digest)}:${actual}); nothing was stored`,
    );
  }
}

/**
 * A resumed download's body past what was received before: a server that
 * ignores `Range` answers 200 with everything again, and its first
 * `offset` bytes are dropped.
 */
export function resentBytes(offset: number, status: number): { rest(piece: Uint8Array): Buffer } {
  let skip = offset > 0 && status === 200 ? offset : 0;
  return {
    rest(piece) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      const drop = Math.min(skip, chunk.length);
      skip -= drop;
      return chunk.subarray(drop);
    },
  };
}
