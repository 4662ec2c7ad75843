import type { Transaction } from 'kysely';
import type { Database } from '../meta/schema.js';
import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';

/**
 * The request behind a change, as Distribution's notifications describe it.
 * The HTTP adapter fills it in; the use cases only pass it along.
 */
export interface RequestRecord {
  id: string;
  /** The client: `ip:port`, or the address a trusted proxy forwarded. */
  addr: string;
  /** The Host the client asked for. */
  host: string;
  method: string;
  useragent: string;
  /** `scheme://host` the client reached the registry at, for links to the content. */
  baseUrl: string;
}

/** Who did something and through which request; the use cases take it instead of HTTP types. */
export interface Origin {
  /** The user (null: anonymous). */
  actor: string | null;
  /** Absent for work the registry does by itself. */
  request?: RequestRecord;
}

/** An origin with nobody behind it (tests, the registry's own work). */
export const NO_ORIGIN: Origin = { actor: null };

/** The event fields an origin gives. */
export function originOf(origin: Origin): Pick<RegistryEvent, 'actor' | 'request'> {
  return origin.request ? { actor: origin.actor, request: origin.request } : { actor: origin.actor };
}

/** What Distribution calls a blob's media type: it keeps none. */
export const BLOB_MEDIA_TYPE = 'application/octet-stream';

/** Something that happened in the registry. */
export interface RegistryEvent {
  action: 'push' | 'pull' | 'delete' | 'mount';
  /** A manifest event may carry a tag; a delete with a tag is that tag's removal. */
  target: 'manifest' | 'blob';
  repository: RepoName;
  digest: Digest;
  mediaType: string;
  /** Bytes of the manifest or blob. */
  size: number;
  /** The tag pushed, pulled or deleted; absent for a manifest addressed by digest alone. */
  tag?: string;
  artifactType: string | null;
  subject: Digest | null;
  /** A mount's source repository. */
  fromRepository?: RepoName;
  /** Who did it (null: anonymous). */
  actor: string | null;
  request?: RequestRecord;
  at: number;
}

/** Runs inside the metadata transaction of the change: whatever it writes (a job, an outbox row) commits with it or not at all. */
export type EventListener = (event: RegistryEvent, trx: Transaction<Database>) => Promise<void>;

/**
 * A simple signature added to a manifest through the signature extension: not
 * a manifest, so no notification tells it, but replication copies it. Runs
 * inside the transaction that stores the signature, like an EventListener.
 */
export type SignatureListener = (signed: { repository: RepoName; digest: Digest }, trx: Transaction<Database>) => Promise<void>;

/** Pulls change nothing, so they are told after the fact, outside any transaction; a listener must not throw. */
export type PullListener = (event: RegistryEvent) => void;

export interface ListenOptions {
  /** Also blob pushes, mounts and deletes (default: manifest events only). */
  blobs?: boolean;
}

/**
 * Manifest and blob changes, for scan-on-push, replication and webhooks, and
 * pulls for whoever asks. A listener that throws rolls the change back:
 * listeners only record work for later (enqueue a job), they never do it inline.
 */
export class RegistryEvents {
  private readonly manifestListeners: EventListener[] = [];
  private readonly blobListeners: EventListener[] = [];
  private readonly pullListeners: PullListener[] = [];
  private readonly signatureListeners: SignatureListener[] = [];

  listen(listener: EventListener, opts: ListenOptions = {}): void {
    this.manifestListeners.push(listener);
    if (opts.blobs) this.blobListeners.push(listener);
  }

  listenPulls(listener: PullListener): void {
    this.pullListeners.push(listener);
  }

  listenSignatures(listener: SignatureListener): void {
    this.signatureListeners.push(listener);
  }

  /** What the signature store calls in its transaction once it added a signature of `digest`; undefined when nobody listens. */
  signatureHook(repository: RepoName, digest: Digest): ((trx: Transaction<Database>) => Promise<void>) | undefined {
    if (this.signatureListeners.length === 0) return undefined;
    return async (trx) => {
      for (const l of this.signatureListeners) await l({ repository, digest }, trx);
    };
  }

  /** Whether anyone listens to pulls: a pull builds no event otherwise. */
  get pullsWanted(): boolean {
    return this.pullListeners.length > 0;
  }

  pulled(event: RegistryEvent): void {
    for (const l of this.pullListeners) l(event);
  }

  /**
   * A hook for the metadata layer to call inside its transaction, making the
   * events from what it passes; undefined when nobody listens to `target`
   * events (then nothing extra runs in the transaction).
   */
  hook<A extends unknown[]>(target: RegistryEvent['target'], events: (...args: A) => RegistryEvent[]): ((trx: Transaction<Database>, ...args: A) => Promise<void>) | undefined {
    const listeners = target === 'manifest' ? this.manifestListeners : this.blobListeners;
    if (listeners.length === 0) return undefined;
    return async (trx, ...args) => {
      for (const e of events(...args)) for (const l of listeners) await l(e, trx);
    };
  }
}
