import type { Transaction } from 'kysely';
import type { Database } from '../meta/schema.js';
import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';

/** Something that changed in the registry, told to listeners inside the transaction that changed it. */
export interface RegistryEvent {
  action: 'push' | 'delete';
  repository: RepoName;
  digest: Digest;
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
  /** The tag pushed or deleted; absent for a push or delete by digest alone. */
  tag?: string;
  artifactType: string | null;
  subject: Digest | null;
  /** Who did it (null: anonymous). */
  actor: string | null;
  at: number;
}

/** Runs inside the metadata transaction of the change: whatever it writes (a job, an outbox row) commits with it or not at all. */
export type EventListener = (event: RegistryEvent, trx: Transaction<Database>) => Promise<void>;

/**
 * Manifest pushes and deletes, for scan-on-push, replication and webhooks.
 * A listener that throws rolls the change back: listeners only record work
 * for later (enqueue a job), they never do it inline.
 */
export class RegistryEvents {
  private readonly listeners: EventListener[] = [];

  listen(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /**
   * A hook for the metadata layer to call inside its transaction, making the
   * events from what it passes; undefined when nobody listens (then nothing
   * extra runs in the transaction).
   */
  hook<A extends unknown[]>(events: (...args: A) => RegistryEvent[]): ((trx: Transaction<Database>, ...args: A) => Promise<void>) | undefined {
    if (this.listeners.length === 0) return undefined;
    return async (trx, ...args) => {
      for (const e of events(...args)) for (const l of this.listeners) await l(e, trx);
    };
  }
}
