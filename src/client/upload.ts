import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import { remoteError, RemoteError } from './errors.js';
import { describeNetworkError, isRetryableStatus, NetworkError } from './http.js';
import { pushScope, type RegistryClient } from './registry.js';

export type UploadProgress = (sent: number, total: number) => void;

/** One chunk is the only part of a blob held in memory. */
const CHUNK_BYTES = Number(process.env.BERTH_CHUNK_BYTES ?? 8 * 1024 * 1024);
const MAX_RESUMES = 5;

/**
 * Into a session the caller opened (the POST), PATCH chunks with
 * Content-Range, then PUT ?digest=. A chunk that fails midway (a dropped
 * connection, a 5xx, a registry draining for a restart: upload sessions
 * survive restarts) resumes at the offset the registry reports (GET on the
 * upload URL, retried through the restart), so no byte the registry has is
 * sent again.
 */
export async function uploadBlob(client: RegistryClient, repo: string, desc: Descriptor, data: Readable, opts: { session: string; offset?: number; onProgress?: UploadProgress }): Promise<void> {
  const scopes = [pushScope(repo)];
  let location = opts.session;
  // Resuming a session an earlier push left: the registry has the first `offset` bytes.
  let sent = opts.offset ?? 0;
  let last: Buffer | undefined;
  for await (const chunk of chunks(skip(data, sent), CHUNK_BYTES)) {
    // A blob that fits in one chunk goes up with the closing PUT: one request fewer.
    if (sent === 0 && chunk.length === desc.size) {
      last = chunk;
      break;
    }
    location = await sendChunk(client, scopes, location, chunk, sent);
    sent += chunk.length;
    opts.onProgress?.(sent, desc.size);
  }
  if (last && !(await closeWith(client, scopes, location, desc, last))) {
    // The PUT carrying the bytes failed: the registry may hold some of them. Send the rest as a chunk, close empty.
    location = await sendChunk(client, scopes, location, last, 0, true);
    last = undefined;
  }
  if (!last) await closeEmpty(client, repo, scopes, location, desc);
  opts.onProgress?.(desc.size, desc.size);
}

/** The closing PUT with the whole (small) blob. Not blindly retried: a retry could append the bytes twice. */
async function closeWith(client: RegistryClient, scopes: string[], location: string, desc: Descriptor, bytes: Buffer): Promise<boolean> {
  const put = await attempt(() =>
    client.request(withDigest(location, desc.digest), { method: 'PUT', scopes, retry: false, headers: { 'Content-Type': 'application/octet-stream' }, body: bytes }),
  );
  if (put.ok === undefined) return false;
  if (put.ok.status !== 201) throw await remoteError(put.ok, `finish upload of ${desc.digest} to ${client.registry}`);
  await put.ok.body?.cancel();
  return true;
}

/** An empty closing PUT is safe to repeat; if an earlier one landed and only its answer was lost, the blob is there. */
async function closeEmpty(client: RegistryClient, repo: string, scopes: string[], location: string, desc: Descriptor): Promise<void> {
  const put = await client.request(withDigest(location, desc.digest), { method: 'PUT', scopes, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(0) });
  if (put.status === 201) return void (await put.body?.cancel());
  if (put.status === 404 && (await client.hasBlob(repo, desc.digest))) return;
  throw await remoteError(put, `finish upload of ${desc.digest} to ${client.registry}/${repo}`);
}

/**
 * PATCHes `chunk` (which starts at byte `start` of the blob) until the
 * registry has all of it; after each failure asks where the session stands.
 */
async function sendChunk(client: RegistryClient, scopes: string[], location: string, chunk: Buffer, start: number, resuming = false): Promise<string> {
  let done = resuming ? await uploadedBytes(client, scopes, location, start) : 0;
  for (let resumes = 0; done < chunk.length; resumes++) {
    const sent = await attempt(() =>
      client.request(location, {
        method: 'PATCH',
        scopes,
        retry: false,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start + done}-${start + chunk.length - 1}` },
        body: chunk.subarray(done),
      }),
    );
    if (sent.ok?.status === 202) {
      await sent.ok.body?.cancel();
      return requireLocation(sent.ok.headers.get('location') ?? location);
    }
    if (sent.ok && sent.ok.status !== 416 && !isRetryableStatus(sent.ok.status)) throw await remoteError(sent.ok, 'upload chunk');
    const why = sent.ok ? `HTTP ${sent.ok.status}` : sent.failure;
    await sent.ok?.body?.cancel();
    if (resumes >= MAX_RESUMES) throw new NetworkError(`upload chunk at byte ${start + done} failed ${resumes + 1} times (last: ${why}); push again to resume`);
    client.http.notify(`upload interrupted at byte ${start + done} (${why}); resuming where the registry says it stands`);
    done = await uploadedBytes(client, scopes, location, start);
  }
  return location;
}

/** A request's answer, or why the connection failed (other errors are thrown). */
async function attempt<T>(send: () => Promise<T>): Promise<{ ok?: T; failure: string }> {
  try {
    return { ok: await send(), failure: '' };
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    return { failure: describeNetworkError(e) };
  }
}

/** How much of the chunk starting at `start` the registry has. */
async function uploadedBytes(client: RegistryClient, scopes: string[], location: string, start: number): Promise<number> {
  const have = await uploadOffset(client, scopes, location);
  if (have < start) throw new NetworkError(`upload session lost data before byte ${start} (it has ${have}); push again`);
  return have - start;
}

/**
 * How many bytes an upload session holds, from the status endpoint's
 * `Range: 0-<last byte>`. Retried like any GET, so it waits through a drain
 * and a restart.
 */
export async function uploadOffset(client: RegistryClient, scopes: string[], location: string): Promise<number> {
  const res = await client.request(location, { scopes });
  await res.body?.cancel();
  if (res.status !== 204 && !res.ok) throw new RemoteError(`upload session is gone (HTTP ${res.status}); push again`, res.status);
  const m = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
  // Registries say `0-0` for an empty session too; a 1-byte session is far less likely than an empty one.
  return m && m[1] !== '0' ? Number(m[1]) + 1 : 0;
}

/** The stream without its first `n` bytes (what the registry already has). */
async function* skip(data: Readable, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const piece of data) {
    const buf = piece as Buffer;
    if (left >= buf.length) {
      left -= buf.length;
      continue;
    }
    yield left > 0 ? buf.subarray(left) : buf;
    left = 0;
  }
}

/**
 * Fixed-size chunks copied into one reused buffer: each is fully sent before
 * the next is filled, so a push allocates one chunk, not one per chunk.
 */
async function* chunks(data: AsyncIterable<unknown>, size: number): AsyncGenerator<Buffer> {
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
