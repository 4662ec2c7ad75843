import type { Generated } from 'kysely';

/**
 * The metadata index. Times are epoch milliseconds, sizes bytes; both fit a
 * JS number (2^53) and are stored as 64-bit integers in either dialect.
 */
export interface Database {
  repositories: RepositoryTable;
  blobs: BlobTable;
  repository_blobs: RepositoryBlobTable;
  manifests: ManifestTable;
  manifest_refs: ManifestRefTable;
  manifest_annotations: ManifestAnnotationTable;
  tags: TagTable;
  tag_history: TagHistoryTable;
  uploads: UploadTable;
  /** SQLite only: who runs a scheduled job until when (PostgreSQL uses advisory locks). */
  leases: LeaseTable;
  jobs: JobTable;
  job_queues: JobQueueTable;
  /** Blobs found damaged while served, until fsck has looked at them. */
  suspect_blobs: SuspectBlobTable;
  signatures: SignatureTable;
  scan_results: ScanResultTable;
  /** Web UI login sessions (migration 010). */
  ui_sessions: UiSessionTable;
  gc_runs: GcRunTable;
  proxy_claims: ProxyClaimTable;
  proxy_tags: ProxyTagTable;
  proxy_stats: ProxyStatsTable;
  /** One row: this registry's name to itself, the same in every process and replica (migration 012). */
  registry_id: RegistryIdTable;
  schedules: ScheduleTable;
}

/** The last scan of a manifest digest (any repository); the blobs are gzipped JSON. */
export interface ScanResultTable {
  digest: string;
  /** What took the inventory (revision, and whether secrets were looked for). */
  scanner: string;
  /** The vulnerability database's content time (0: scanned without one). */
  db_version: number;
  /** When that database was last updated, as the report shows it. */
  db_updated_at: number | null;
  scanned_at: number;
  /** JSON: counts by severity and the worst findings. */
  summary: string;
  report: Buffer;
  /** CycloneDX; null when it was over the size kept. */
  sbom: Buffer | null;
  /** What a rescan rematches; null when over the size kept (a rescan then reads the layers again). */
  inventory: Buffer | null;
}

export interface ScheduleTable {
  name: string;
  last_run_at: number;
}

export interface SuspectBlobTable {
  digest: string;
  reason: string;
  noted_at: number;
}

/** Simple signatures stored through the registry signature extension; each belongs to one manifest of one repository. */
export interface SignatureTable {
  repository_id: number;
  manifest_digest: string;
  /** sha256 of `content`: the same signature is stored once. */
  content_digest: string;
  /** The client's `<digest>@<id>` name. */
  name: string;
  content: Buffer;
  created_at: number;
  actor: string | null;
}

export interface RepositoryTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

/** A blob committed to the store under its verified digest (one row across all repositories). */
export interface BlobTable {
  digest: string;
  size: number;
  created_at: number;
  /** Last claim by a writer (commit, mount, manifest push): GC spares rows claimed within its grace period. */
  linked_at: Generated<number>;
}

/** Which repositories may serve a blob. `last_access_at` guards the HEAD-then-manifest race against GC. */
export interface RepositoryBlobTable {
  repository_id: number;
  digest: string;
  created_at: number;
  last_access_at: number;
}

export interface ManifestTable {
  repository_id: number;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  created_at: number;
  /** Last push of this manifest, or of an index naming it. */
  pushed_at: Generated<number>;
  pulled_at: number | null;
}

/** The annotations of referrers (manifests with a subject), as JSON, for the referrers API; `chars` is their length. */
export interface ManifestAnnotationTable {
  repository_id: number;
  digest: string;
  chars: number;
  annotations: string;
}

/** Edges from a manifest to what it needs: blobs (config, layers) and child manifests. */
export interface ManifestRefTable {
  repository_id: number;
  manifest_digest: string;
  ref_digest: string;
  kind: 'blob' | 'manifest';
}

export interface TagTable {
  repository_id: number;
  name: string;
  digest: string;
  updated_at: number;
}

export interface TagHistoryTable {
  id: Generated<number>;
  repository_id: number;
  tag: string;
  old_digest: string | null;
  new_digest: string | null;
  at: number;
  actor: string | null;
}

export interface UploadTable {
  id: string;
  repository_id: number;
  /** Bytes accepted so far; the store may hold more from a write that failed, never fewer. */
  size: number;
  /** The request writing a chunk now, and until when its claim holds unless renewed. */
  writer: string | null;
  writer_until: number | null;
  /** Who opened it: the user (null: anonymous), and from which address. */
  owner: string | null;
  client: string | null;
  created_at: number;
  updated_at: number;
}

export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface JobTable {
  id: Generated<number>;
  queue: string;
  /** What the job is about (a digest, an event id): at most one ready job per queue and key. */
  key: string;
  /** JSON. */
  payload: string;
  state: 'ready' | 'running' | 'dead';
  attempts: Generated<number>;
  /** Not before this time (backoff after a failure). */
  run_at: number;
  lease_holder: string | null;
  /** A running job whose lease has passed is taken over: its holder died or hung. */
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface JobQueueTable {
  queue: string;
  succeeded: Generated<number>;
  failed: Generated<number>;
  /** Events not enqueued because the queue was full (migration 009). */
  dropped: Generated<number>;
  last_success_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

export interface UiSessionTable {
  /** SHA-256 (hex) of the cookie's value: the value itself is stored nowhere. */
  id_hash: string;
  subject: string;
  /** Sent back in X-CSRF-Token by every state-changing request of the session. */
  csrf: string;
  created_at: number;
  last_seen_at: number;
}

/** One garbage collection run (a dry run too) and what it removed, or would have. */
export interface GcRunTable {
  id: Generated<number>;
  started_at: number;
  finished_at: number;
  /** 0 or 1 in either dialect. */
  dry_run: number;
  tags_removed: number;
  manifests_removed: number;
  blobs_removed: number;
  freed_bytes: number;
}

/** A fetch from an upstream in progress: one holder per missing blob or manifest across replicas. */
export interface ProxyClaimTable {
  key: string;
  holder: string;
  expires_at: number;
}

/** When a cached tag was last confirmed by its upstream. */
export interface ProxyTagTable {
  repository_id: number;
  tag: string;
  checked_at: number;
}

export interface RegistryIdTable {
  hop: string;
}

/** What the cache saved, per upstream namespace. */
export interface ProxyStatsTable {
  namespace: string;
  hits: Generated<number>;
  upstream_requests: Generated<number>;
  upstream_bytes: Generated<number>;
}
