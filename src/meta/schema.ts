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
  tags: TagTable;
  tag_history: TagHistoryTable;
  uploads: UploadTable;
  /** SQLite only: who runs a scheduled job until when (PostgreSQL uses advisory locks). */
  leases: LeaseTable;
  signatures: SignatureTable;
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
  /** JSON of the manifest's annotations, for the referrers API. */
  annotations: string | null;
  created_at: number;
  /** Last push of this manifest, or of an index naming it. */
  pushed_at: Generated<number>;
  pulled_at: number | null;
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
  created_at: number;
  updated_at: number;
}

export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}
