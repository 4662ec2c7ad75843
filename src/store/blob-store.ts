import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/** An upload session id: a UUID, validated before it names anything in storage. */
export type UploadId = string & { readonly __brand: 'UploadId' };

/** Inclusive byte range, as in HTTP `Range`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** What every driver throws when a blob or upload it was asked for is not there. */
export class BlobNotFoundError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found in storage`);
    this.name = 'BlobNotFoundError';
  }
}

/** The stored object's size is not the one the index recorded: the store was tampered with or damaged. */
export class BlobSizeMismatchError extends Error {
  constructor(
    readonly digest: string,
    readonly stored: number,
    readonly expected: number,
  ) {
    super(`blob ${digest} holds ${stored} bytes in storage, ${expected} in the index`);
    this.name = 'BlobSizeMismatchError';
  }
}

/** Something in the uploads area: a session's bytes, or a temporary file of a write. */
export interface UploadEntry {
  /** The session id, or a driver's temporary name. */
  name: string;
  modifiedAt: Date;
}

export interface StoredBlob {
  digest: Digest;
  size: number;
  modifiedAt: Date;
}

/**
 * Content-addressed bytes. Drivers know nothing of repositories or hashing:
 * the registry layer hashes while streaming and tells the store which digest
 * an upload proved to be. Nothing here may assume one process or a local disk:
 * upload state that matters (its size) lives in metadata, and any replica may
 * append to, read or commit an upload that another one started.
 */
export interface BlobStore {
  stat(digest: Digest): Promise<{ size: number } | null>;
  /**
   * Rejects with BlobNotFoundError before any byte is produced when the blob
   * is missing, and with BlobSizeMismatchError when `size` is given and the
   * stored object is not that long.
   */
  read(digest: Digest, range?: ByteRange, size?: number): Promise<Readable>;
  /** A URL the client may fetch directly (presigned object storage); null to stream through Berth. */
  redirectUrl(digest: Digest): Promise<string | null>;
  /** Stores small content whose digest the caller has verified (manifests). */
  put(digest: Digest, bytes: Buffer): Promise<void>;
  delete(digest: Digest): Promise<void>;
  walk(): AsyncIterable<StoredBlob>;

  startUpload(id: UploadId): Promise<void>;
  /**
   * Writes a whole blob as the upload `id`, which no session knows, and makes
   * it durable, as writeUpload and sealUpload do but in one pass (filesystem:
   * one open file from create to fsync). `vet` runs between the write and the
   * sync, with the number of bytes written, and may refuse them (a digest that
   * does not match, a quota): then, as on any failure, nothing of the upload
   * is left. Resolves with the size; commitUpload or abortUpload follows.
   */
  stageUpload(id: UploadId, body: Readable, vet: (size: number) => Promise<void>): Promise<number>;
  /**
   * Writes `body` at `offset` (any bytes past it from an earlier failed write
   * are overwritten). Resolves with the number of bytes written; rejects, with
   * the upload unchanged up to `offset`, when the body breaks off; on a
   * filesystem the bytes past `offset` are then given back (a full disk must
   * not stay full because of a failed write).
   */
  writeUpload(id: UploadId, offset: number, body: Readable): Promise<number>;
  /** The first `size` bytes of an upload, to rebuild hash state on another replica. */
  readUpload(id: UploadId, size: number): Promise<Readable>;
  /**
   * Makes the first `size` bytes of the upload durable where they are. Called
   * before the metadata transaction that commits the blob, so the slow part
   * (fsync of a file that may be gigabytes) never runs while that transaction
   * holds the database (with SQLite: every other query waits for it).
   */
  sealUpload(id: UploadId, size: number): Promise<void>;
  /**
   * Makes the first `size` bytes of a sealed upload visible as `digest`,
   * atomically, and durably before it resolves (filesystem: the directory
   * entry synced too). Called after the blob's row is claimed and outside any
   * transaction (see Metadata.commitBlob); the upload is gone afterwards.
   */
  commitUpload(id: UploadId, size: number, digest: Digest): Promise<void>;
  abortUpload(id: UploadId): Promise<void>;
  /** Everything in the uploads area, to find what crashes left behind (sessions without a row, temporary files). */
  uploadEntries(): AsyncIterable<UploadEntry>;
  /** Removes one entry uploadEntries listed; a name it did not list is refused. */
  removeUploadEntry(name: string): Promise<void>;
}
