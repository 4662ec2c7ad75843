import { PassThrough, type Readable } from 'node:stream';
import { algorithmOf } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { RepoName } from '../oci/name.js';
import type { RegistryContext } from '../registry/context.js';
import { NO_ORIGIN } from '../registry/events.js';
import { HashStates } from '../registry/hash-states.js';
import { uploadWhole } from '../registry/uploads.js';
import { drained } from '../util/drained.js';

/** Bytes buffered towards the store and towards the client at most; beyond it the upstream is read no faster than the slower of the two. */
const BUFFER_BYTES = 1 << 20;

export interface BlobFill {
  /** The bytes for the client that asked, as they arrive; it ends only after the blob verified and was stored, and errors otherwise. */
  body: Readable;
  /** Settles when the blob is stored (resolves) or nothing was (rejects). */
  stored: Promise<void>;
}

/**
 * Stores a blob from an upstream through the upload path (hashed while
 * written, committed only under the digest it proved) while the same bytes
 * stream to the client. The client's last chunk is held back until the
 * bytes proved their digest: bytes that fail verification end its response
 * with an error, never as a complete body. It is not held for the fsync and
 * commit after that (for a layer, most of what a cold pull costs more than a
 * direct one): the client has the right bytes whether or not they are kept,
 * and a blob not kept is fetched again by the next pull. A client that hangs
 * up does not stop the fill (others wait for it); a slow one slows it,
 * within BUFFER_BYTES.
 */
export function fillBlob(ctx: RegistryContext, repo: RepoName, desc: Descriptor, source: AsyncIterable<Buffer>): BlobFill {
  const hash = HashStates.fresh(algorithmOf(desc.digest));
  const toStore = new PassThrough({ highWaterMark: BUFFER_BYTES });
  const body = new PassThrough({ highWaterMark: BUFFER_BYTES });
  let clientGone = false;
  let delivered = false;
  body.on('close', () => (clientGone = true));
  let verified!: () => void;
  const proven = new Promise<void>((r) => (verified = r));
  // Each chunk is hashed here, once, on its way to both: the upload does not hash it again.
  const upload = uploadWhole(ctx, repo, desc.digest, { bytes: toStore, hash }, desc.size, NO_ORIGIN, verified);
  // The upload may fail before the source ends (a full disk): stop reading the upstream then.
  let failed: unknown;
  upload.catch((e: unknown) => {
    failed ??= e;
    toStore.destroy();
  });

  const stored = (async () => {
    let held: Buffer | undefined;
    for await (const chunk of source) {
      if (failed) break;
      hash.update(chunk);
      const storeFull = !toStore.write(chunk);
      const clientFull = held !== undefined && !clientGone && !body.write(held);
      held = chunk;
      if (storeFull) await drained(toStore);
      if (clientFull) await drained(body);
    }
    if (!failed) toStore.end();
    await Promise.race([proven, upload]);
    if (!clientGone) body.end(held);
    delivered = true;
    await upload;
  })();
  stored.catch((e: unknown) => {
    toStore.destroy(e as Error);
    // A commit failing after the client had its verified bytes must not cut them off mid-flush.
    if (!delivered) body.destroy(e as Error);
  });
  return { body, stored };
}
