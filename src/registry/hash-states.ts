import { createHash, type Hash } from 'node:crypto';
import type { Algorithm } from '../oci/digest.js';
import type { UploadId } from '../store/blob-store.js';

interface State {
  algorithm: Algorithm;
  offset: number;
  hash: Hash;
}

/**
 * Running hashes of uploads in progress, so a chunked upload is hashed once
 * while it streams. This is only a cache: when an upload continues on another
 * replica, or after a restart, the hash is rebuilt from the stored bytes.
 */
export class HashStates {
  private readonly states = new Map<UploadId, State>();

  /** Takes the state out (the caller owns it while writing); undefined unless it is at `offset`. */
  take(id: UploadId, algorithm: Algorithm, offset: number): Hash | undefined {
    const s = this.states.get(id);
    this.states.delete(id);
    return s && s.offset === offset && s.algorithm === algorithm ? s.hash : undefined;
  }

  put(id: UploadId, algorithm: Algorithm, offset: number, hash: Hash): void {
    this.states.set(id, { algorithm, offset, hash });
  }

  drop(id: UploadId): void {
    this.states.delete(id);
  }

  static fresh(algorithm: Algorithm): Hash {
    return createHash(algorithm);
  }
}
