import { PassThrough, Readable } from 'node:stream';
import { MIN_PART_SIZE } from './s3-limits.js';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isDigest, type Digest } from '../oci/digest.js';
import { BlobNotFoundError, BlobSizeMismatchError, type BlobStore, type ByteRange, type StoredBlob, type UploadEntry, type UploadId } from './blob-store.js';
import { drained } from '../util/drained.js';
import { reportUnreachable } from './s3-unreachable.js';

/** S3's ceiling on parts per multipart upload: with the default part size a blob may reach 78 GiB. */
const MAX_PARTS = 10_000;
/** Upload sessions are UUIDs; nothing else under `uploads/` is Berth's. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO, Ceph RGW); AWS when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Static credentials; when absent the standard AWS chain (env, profile, IMDS, web identity) applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Key prefix, so one bucket can hold several registries. Empty or ending in `/`. */
  prefix: string;
  /**
   * Bytes per stored part. Every replica sharing a bucket must use the same
   * value: an upload's layout on S3 is derived from it.
   */
  partSize: number;
  /** Answer blob GETs with a redirect to a presigned URL instead of streaming. */
  redirect: boolean;
  /** The endpoint clients reach, when it differs from the one Berth uses (signed into the URL). */
  publicEndpoint?: string;
  redirectExpirySeconds: number;
  /** How long a request may take to connect, and then until its answer's headers arrive. */
  timeoutMs: number;
}

/**
 * Blobs on S3 or any S3-compatible object store.
 *
 * Layout under `prefix`: `blobs/<alg>/<hex>` for content, and per upload
 * `uploads/<id>/part-<n>` (part n holds bytes [(n-1)·P, n·P) for part size P)
 * plus `uploads/<id>/tail-<o>` (the bytes past the last full part when the
 * upload was `o` bytes long). Because the layout follows from the accepted
 * size alone, which lives in metadata, any replica can continue, reread or
 * commit an upload, and a write that broke off is simply overwritten by the
 * retry. Client chunks of any size are buffered to P before they are stored.
 *
 * Parts are plain objects rather than parts of an open multipart upload
 * because S3 cannot read back the parts of an unfinished multipart upload,
 * and a replica that did not see the earlier chunks must reread them to
 * rebuild the hash state. Commit happens once the registry has verified the
 * digest, so it opens a multipart upload directly at the content address and
 * fills it by server-side `UploadPartCopy`: the blob appears atomically on
 * `CompleteMultipartUpload`, with no temporary object, no `CopyObject` (and
 * its 5 GiB limit) and no bytes through Berth. Servers without
 * `UploadPartCopy` (s3rver) get the parts streamed through instead.
 */
export class S3Store implements BlobStore {
  private readonly client: S3Client;
  /** Signs redirect URLs for the endpoint clients see. */
  private readonly signer: S3Client;
  private partCopy: 'unknown' | 'supported' | 'unsupported' = 'unknown';

  constructor(private readonly opts: S3StoreOptions) {
    if (opts.partSize < MIN_PART_SIZE) throw new Error(`S3 part size must be at least ${MIN_PART_SIZE} bytes`);
    const base: S3ClientConfig = {
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials,
      // Checksums only where S3 demands them: many S3-compatible servers reject
      // the SDK's default CRC trailers, and digests already guard the content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    // The SDK waits forever by default. `requestTimeout` ends once the answer's
    // headers arrive, so a long blob body streaming to a slow client is never cut.
    const requestHandler = { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true };
    this.client = new S3Client({ ...base, endpoint: opts.endpoint, requestHandler });
    reportUnreachable(this.client, opts.endpoint ? new URL(opts.endpoint).origin : `bucket ${opts.bucket}`, opts.timeoutMs);
    this.signer = opts.publicEndpoint ? new S3Client({ ...base, endpoint: opts.publicEndpoint }) : this.client;
  }

  async stat(digest: Digest): Promise<{ size: number } | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.blobKey(digest) }));
      return { size: r.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async read(digest: Digest, range?: ByteRange, size?: number): Promise<Readable> {
    return this.getObject(this.blobKey(digest), digest, range, size);
  }

  async redirectUrl(digest: Digest): Promise<string | null> {
    if (!this.opts.redirect) return null;
    const command = new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.blobKey(digest) });
    return getSignedUrl(this.signer, command, { expiresIn: this.opts.redirectExpirySeconds });
  }

  async put(digest: Digest, bytes: Buffer): Promise<void> {
    await this.putObject(this.blobKey(digest), bytes);
  }

  async delete(digest: Digest): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.blobKey(digest) }));
  }

  async *walk(): AsyncIterable<StoredBlob> {
    const root = `${this.opts.prefix}blobs/`;
    for await (const o of this.list(root)) {
      const [alg, hex] = o.key.slice(root.length).split('/');
      const digest = `${alg}:${hex}`;
      if (isDigest(digest)) yield { digest, size: o.size, modifiedAt: o.modifiedAt };
    }
  }

  /** Nothing to create: an upload with no bytes has no objects. */
  async startUpload(): Promise<void> {}

  async writeUpload(id: UploadId, offset: number, body: Readable): Promise<number> {
    const P = this.opts.partSize;
    let part = Math.floor(offset / P);
    const pending: Buffer[] = offset % P ? [await this.readTail(id, offset)] : [];
    let pendingBytes = pending[0]?.length ?? 0;
    let written = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      written += chunk.length;
      // Awaiting the part upload pauses the body, so memory stays near P per write.
      while (pendingBytes >= P) {
        const all = Buffer.concat(pending);
        part += 1;
        if (part > MAX_PARTS) throw new Error(`blob exceeds ${MAX_PARTS} parts of ${P} bytes; raise storage.s3.partSize`);
        await this.putObject(this.partKey(id, part), all.subarray(0, P));
        pending.splice(0, pending.length, all.subarray(P));
        pendingBytes = all.length - P;
      }
    }
    const end = offset + written;
    if (written > 0 && pendingBytes > 0) await this.putObject(this.tailKey(id, end), Buffer.concat(pending));
    return written;
  }

  async stageUpload(id: UploadId, body: Readable, vet: (size: number) => Promise<void>): Promise<number> {
    try {
      const written = await this.writeUpload(id, 0, body);
      await vet(written);
      return written;
    } catch (e) {
      await this.abortUpload(id);
      throw e;
    }
  }

  async readUpload(id: UploadId, size: number): Promise<Readable> {
    const sources = this.uploadPieces(id, size).map((p) => () => this.getObject(p.key, p.key));
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    (async () => {
      for (const open of sources) {
        const piece = await open();
        for await (const chunk of piece) {
          if (!out.write(chunk)) await drained(out);
          // A reader that went away: stop fetching (leaving the loop closes the S3 stream), do not wait for a drain that never comes.
          if (out.destroyed) return;
        }
      }
      out.end();
    })().catch((e: unknown) => out.destroy(e as Error));
    return out;
  }

  /** Parts are durable once S3 acknowledged them; assembling waits for the commit, which claims the digest first. */
  async sealUpload(): Promise<void> {}

  async commitUpload(id: UploadId, size: number, digest: Digest): Promise<void> {
    const key = this.blobKey(digest);
    // Content-addressed: a blob already there (a concurrent push of the same bytes) is this blob.
    if (!(await this.stat(digest))) {
      const pieces = this.uploadPieces(id, size);
      if (pieces.length === 0) await this.putObject(key, Buffer.alloc(0));
      else if (pieces.length === 1) await this.copyObject(pieces[0]!.key, key);
      else await this.assemble(pieces, key);
    }
    await this.abortUpload(id);
  }

  async abortUpload(id: UploadId): Promise<void> {
    const keys: string[] = [];
    for await (const o of this.list(this.uploadPrefix(id))) keys.push(o.key);
    await this.deleteKeys(keys);
  }

  /** One entry per session with objects under `uploads/`, as new as its newest object. */
  async *uploadEntries(): AsyncIterable<UploadEntry> {
    const root = `${this.opts.prefix}uploads/`;
    let current: UploadEntry | undefined;
    for await (const o of this.list(root)) {
      const name = o.key.slice(root.length).split('/', 1)[0]!;
      if (!SESSION_ID.test(name)) continue;
      if (current && current.name !== name) yield current;
      if (!current || current.name !== name) current = { name, modifiedAt: o.modifiedAt };
      else if (o.modifiedAt > current.modifiedAt) current.modifiedAt = o.modifiedAt;
    }
    if (current) yield current;
  }

  async removeUploadEntry(name: string): Promise<void> {
    if (!SESSION_ID.test(name)) throw new Error(`not an upload entry: ${name.slice(0, 100)}`);
    await this.abortUpload(name as UploadId);
  }

  /** The objects that hold the first `size` bytes of an upload, in order. */
  private uploadPieces(id: UploadId, size: number): { key: string; size: number }[] {
    const P = this.opts.partSize;
    const full = Math.floor(size / P);
    const pieces = Array.from({ length: full }, (_, i) => ({ key: this.partKey(id, i + 1), size: P }));
    if (size % P) pieces.push({ key: this.tailKey(id, size), size: size % P });
    return pieces;
  }

  private async assemble(pieces: { key: string }[], key: string): Promise<void> {
    const { UploadId: mpu } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.opts.bucket, Key: key }));
    try {
      const parts: CompletedPart[] = [];
      for (const [i, piece] of pieces.entries()) parts.push({ PartNumber: i + 1, ETag: await this.copyPart(piece.key, key, mpu!, i + 1) });
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.opts.bucket, Key: key, UploadId: mpu, MultipartUpload: { Parts: parts } }),
      );
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.opts.bucket, Key: key, UploadId: mpu })).catch(() => {});
      throw e;
    }
  }

  private async copyPart(source: string, key: string, mpu: string, n: number): Promise<string | undefined> {
    if (this.partCopy !== 'unsupported') {
      try {
        const r = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.opts.bucket, Key: key, UploadId: mpu, PartNumber: n, CopySource: this.copySource(source) }),
        );
        this.partCopy = 'supported';
        return r.CopyPartResult?.ETag;
      } catch (e) {
        if (this.partCopy === 'supported' || !isNotImplemented(e)) throw e;
        this.partCopy = 'unsupported';
      }
    }
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: source }));
    const body = await this.getObject(source, source);
    const r = await this.client.send(
      new UploadPartCommand({ Bucket: this.opts.bucket, Key: key, UploadId: mpu, PartNumber: n, Body: body, ContentLength: head.ContentLength }),
    );
    return r.ETag;
  }

  private async readTail(id: UploadId, offset: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.getObject(this.tailKey(id, offset), `upload ${id} at ${offset}`)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private async getObject(key: string, what: string, range?: ByteRange, size?: number): Promise<Readable> {
    let r;
    try {
      r = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(what);
      throw e;
    }
    // The object's whole length: Content-Range's total for a range, else Content-Length.
    const stored = range ? Number(/\/(\d+)$/.exec(r.ContentRange ?? '')?.[1] ?? NaN) : r.ContentLength;
    if (size !== undefined && stored !== undefined && !Number.isNaN(stored) && stored !== size) {
      (r.Body as Readable).destroy();
      throw new BlobSizeMismatchError(what, stored, size);
    }
    return r.Body as Readable;
  }

  private async putObject(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body, ContentLength: body.length }));
  }

  private async copyObject(source: string, key: string): Promise<void> {
    await this.client.send(new CopyObjectCommand({ Bucket: this.opts.bucket, Key: key, CopySource: this.copySource(source) }));
  }

  private copySource(key: string): string {
    return `${this.opts.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const r = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.opts.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (r.Errors?.length) throw new Error(`S3 refused to delete ${r.Errors.length} objects, e.g. ${r.Errors[0]!.Key}: ${r.Errors[0]!.Message}`);
    }
  }

  private async *list(prefix: string): AsyncIterable<{ key: string; size: number; modifiedAt: Date }> {
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) yield { key: o.Key!, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  private blobKey(digest: Digest): string {
    const [alg, hex] = digest.split(':') as [string, string];
    return `${this.opts.prefix}blobs/${alg}/${hex}`;
  }

  private uploadPrefix(id: UploadId): string {
    return `${this.opts.prefix}uploads/${id}/`;
  }

  private partKey(id: UploadId, n: number): string {
    return `${this.uploadPrefix(id)}part-${n}`;
  }

  private tailKey(id: UploadId, end: number): string {
    return `${this.uploadPrefix(id)}tail-${end}`;
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404);
}

function isNotImplemented(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.name === 'NotImplemented' || e.$metadata.httpStatusCode === 501);
}
