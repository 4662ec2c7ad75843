import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import { remoteError, RemoteError } from './errors.js';
import { NetworkError } from './http.js';
import { pushScope, type RegistryClient } from './registry.js';

export type UploadProgress = (sent: number, total: number) => void;

/** One chunk is the only part of a blob held in memory. */
const CHUNK_BYTES = Number(process.env.BERTH_CHUNK_BYTES ?? 8 * 1024 * 1024);
const MAX_RESUMES = 5;

/**
 * POST, then PATCH chunks with Content-Range, then PUT ?digest=. A chunk whose
 * connection breaks is resumed from the offset the registry reports (GET on
 * the upload URL), so no byte is sent twice into the session.
 */
export async function uploadBlob(client: RegistryClient, repo: string, desc: Descriptor, data: Readable, onProgress?: UploadProgress): Promise<void> {
  const scopes = [pushScope(repo)];
  const start = await client.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST', scopes });
  if (start.status !== 202) throw await remoteError(start, `start upload to ${client.registry}/${repo}`);
  await start.body?.cancel();
  let location = requireLocation(start.headers.get('location'));

  let sent = 0;
  let last: Buffer | undefined;
  for await (const chunk of chunks(data, CHUNK_BYTES)) {
    // A blob that fits in one chunk goes up with the closing PUT: one request fewer.
    if (sent === 0 && chunk.length === desc.size) {
      last = chunk;
      break;
    }
    location = await sendChunk(client, scopes, location, chunk, sent);
    sent += chunk.length;
    onProgress?.(sent, desc.size);
  }
  const put = await client.request(withDigest(location, desc.digest), {
    method: 'PUT',
    scopes,
    headers: { 'Content-Type': 'application/octet-stream' },
    body: last ?? Buffer.alloc(0),
  });
  if (put.status !== 201) throw await remoteError(put, `finish upload of ${desc.digest} to ${client.registry}/${repo}`);
  await put.body?.cancel();
  onProgress?.(desc.size, desc.size);
}

async function sendChunk(client: RegistryClient, scopes: string[], location: string, chunk: Buffer, start: number): Promise<string> {
  let done = 0;
  for (let resumes = 0; ; resumes++) {
    let res;
    try {
      res = await client.request(location, {
        method: 'PATCH',
        scopes,
        retry: false,
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Range': `${start + done}-${start + chunk.length - 1}`,
        },
        body: chunk.subarray(done),
      });
    } catch (e) {
      if (resumes >= MAX_RESUMES) throw e;
      done = (await uploadedBytes(client, scopes, location)) - start;
      if (done < 0) throw new NetworkError(`upload session lost data before byte ${start}: ${(e as Error).message}`);
      if (done >= chunk.length) return location;
      continue;
    }
    if (res.status === 202) {
      await res.body?.cancel();
      return requireLocation(res.headers.get('location') ?? location);
    }
    if (res.status === 416 && resumes < MAX_RESUMES) {
      await res.body?.cancel();
      done = (await uploadedBytes(client, scopes, location)) - start;
      continue;
    }
    throw await remoteError(res, 'upload chunk');
  }
}

/** The upload status endpoint answers `Range: 0-<last byte>`. */
async function uploadedBytes(client: RegistryClient, scopes: string[], location: string): Promise<number> {
  const res = await client.request(location, { scopes });
  await res.body?.cancel();
  if (res.status !== 204 && !res.ok) throw new RemoteError(`upload session is gone (HTTP ${res.status}); push again`, res.status);
  const m = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
  // Registries say `0-0` for an empty session too; a 1-byte session is far less likely than an empty one.
  return m && m[1] !== '0' ? Number(m[1]) + 1 : 0;
}

/**
 * Fixed-size chunks copied into one reused buffer: each is fully sent before
 * the next is filled, so a push allocates one chunk, not one per chunk.
 */
async function* chunks(data: Readable, size: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  let yielded = false;
  for await (const piece of data) {
    let buf = piece as Buffer;
    while (buf.length > 0) {
      const take = Math.min(size - length, buf.length);
      buf.copy(buffer, length, 0, take);
      length += take;
      buf = buf.subarray(take);
      if (length === size) {
        yield buffer;
        yielded = true;
        length = 0;
      }
    }
  }
  if (length > 0 || !yielded) yield buffer.subarray(0, length);
}

function requireLocation(loc: string | null): string {
  if (!loc) throw new RemoteError('the registry started an upload without a Location header', 202);
  return loc;
}

const withDigest = (location: string, digest: string): string => `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
