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
 */
export async function* readVerified(client: RegistryClient, repo: string, desc: Descriptor, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const hash = createHash(algorithmOf(desc.digest));
  let offset = 0;
  let resumes = 0;
  for (;;) {
    const res = await client.request(`/v2/${repo}/blobs/${desc.digest}`, {
      scopes: [pullScope(repo)],
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    });
    if (!res.ok || !res.body) throw await remoteError(res, `blob ${desc.digest} from ${client.registry}/${repo}`);
    // A server that ignores Range sends everything again: skip what we already have.
    let skip = offset > 0 && res.status === 200 ? offset : 0;
    try {
      for await (const piece of res.body) {
        let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        if (skip > 0) {
          const drop = Math.min(skip, chunk.length);
          skip -= drop;
          chunk = chunk.subarray(drop);
          if (chunk.length === 0) continue;
        }
        offset += chunk.length;
        if (offset > desc.size) throw new DigestMismatchError(`blob ${desc.digest} is larger than the ${desc.size} bytes its descriptor says`);
        hash.update(chunk);
        onBytes?.(chunk.length);
        yield chunk;
      }
    } catch (e) {
      if (e instanceof DigestMismatchError || ++resumes > MAX_RESUMES) throw e;
      client.http.notify(`connection lost at byte ${offset} of ${desc.digest.slice(0, 19)} (${describeNetworkError(e)}); resuming`);
      continue;
    }
    if (offset >= desc.size || ++resumes > MAX_RESUMES) break;
  }
  const actual = hash.digest('hex');
  if (offset !== desc.size || actual !== hexOf(desc.digest)) {
    throw new DigestMismatchError(
      `blob ${desc.digest} from ${client.registry}/${repo} failed verification (got ${offset} bytes hashing to ${algorithmOf(desc.digest)}:${actual}); nothing was stored`,
    );
  }
}
