import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { RegistryError } from '../oci/errors.js';
import type { ByteRange } from '../store/blob-store.js';
import { FileBody } from '../store/file-body.js';
import type { ChunkRange } from '../registry/uploads.js';
import { drained } from '../util/drained.js';
import { watchSend } from './send-watchdog.js';

export type Req = FastifyRequest;
export type Reply = FastifyReply;

export const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };

export function query(req: Req, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(v) ? v[0] : v;
}

export function queryAll(req: Req, key: string): string[] {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function header(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Content-Length as a number; undefined when absent (e.g. chunked transfer encoding). */
export function contentLength(req: Req): number | undefined {
  const v = header(req, 'content-length');
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new RegistryError('SIZE_INVALID', `invalid Content-Length "${v}"`);
  return n;
}

/** Whether the request carries a body at all (Content-Length > 0, or chunked). */
export function hasBody(req: Req): boolean {
  const len = contentLength(req);
  return len !== undefined ? len > 0 : header(req, 'transfer-encoding') !== undefined;
}

export const body = (req: Req): Readable => req.raw;

/**
 * `Content-Range: <start>-<end>[/<total>]` of an upload chunk (a `bytes `
 * prefix is tolerated). A total that cannot hold the chunk, or a last chunk
 * (`last`) that does not end at it, contradicts itself and is refused.
 */
export function chunkRange(req: Req, last = false): ChunkRange | undefined {
  const v = header(req, 'content-range');
  if (v === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(\d+|\*))?$/.exec(v.trim());
  if (!m) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${v.slice(0, 100)}": expected <start>-<end>`, { status: 416 });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${v}": end before start`, { status: 416 });
  const total = m[3] === undefined || m[3] === '*' ? undefined : Number(m[3]);
  if (total !== undefined && (total < end + 1 || (last && total !== end + 1))) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${v}": the total ${total} disagrees with the chunk ${start}-${end}`, { status: 400 });
  }
  return { start, end };
}

export type RangeResult = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * RFC 9110 single byte ranges: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A range
 * the server does not understand (another unit, several ranges, anything
 * malformed) is ignored and the whole blob served, as 14.2 says; a well-formed
 * but reversed or out-of-bounds range is refused with 416, which it allows.
 */
export function byteRange(req: Req, size: number): RangeResult {
  const v = header(req, 'range');
  if (v === undefined) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    // The last n bytes of nothing is nothing: the whole (empty) blob, not an error.
    if (size === 0) return { kind: 'full' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}

/** Answers with an OCI error body; every 4xx and 5xx Berth sends goes through here. */
export function sendError(reply: Reply, e: RegistryError): Reply {
  return reply.code(e.status).headers(e.headers).type('application/json').send(JSON.stringify(e.toBody()));
}

export function uploadHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${id}`,
    'Docker-Upload-UUID': id,
    Range: `0-${Math.max(size - 1, 0)}`,
    'Content-Length': '0',
  };
}

/**
 * Sends a blob body. A file body is copied straight into the socket with
 * reused buffers (see FileBody); anything else (an S3 stream, a
 * pull-through fill) is copied in coalesced writes (copyCoalesced). A
 * client that stops taking it is cut off after `http.sendIdleTimeout`.
 */
export async function sendBody(reply: Reply, body: Readable): Promise<Reply> {
  // onResponse hooks (access and audit logs) still run for a hijacked reply.
  reply.hijack();
  const res = reply.raw;
  if (res.destroyed) {
    // The client left while the body was being found (an upstream's headers, a store's first byte): nothing will read it.
    body.destroy();
    return reply;
  }
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  const watch = watchSend(res, reply.berthSendIdleMs, (reason) => reply.log.info({ reason }, 'blob body cut short: the client stopped reading'));
  try {
    await (body instanceof FileBody ? body.copyTo(res) : copyCoalesced(body, res));
    res.end();
  } catch (e) {
    // Headers are out: all a failure can do now is cut the response short, which the client sees as truncation.
    if (!watch.cut) reply.log.info({ err: e }, 'blob body cut short (usually the client hung up)');
    res.destroy();
  }
  return reply;
}

/** A coalesced copy sends what it gathered once it holds this much, or once it has held it this long. */
const FLUSH_BYTES = 1 << 20;
const FLUSH_MS = 20;
/** Bytes queued on the socket before the copy waits for it to drain. */
const QUEUED_BYTES = 2 << 20;

/**
 * Writes a stream's chunks gathered into writes of FLUSH_BYTES (one writev
 * each, no copy): a stream read from another socket comes in 16-64 KiB
 * chunks, and in this VM a write(2) per chunk, waking the reader each time,
 * cost more than the copy (docs/BENCHMARKS.md, pull-through cache).
 */
async function copyCoalesced(body: Readable, res: Writable): Promise<void> {
  let gathered = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    gathered = 0;
    res.uncork();
  };
  // A client that hangs up stops the read at once, not at the next chunk (a slow source may take a while to send it).
  const hungUp = () => body.destroy();
  res.once('close', hungUp);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (!timer) {
        res.cork();
        timer = setTimeout(flush, FLUSH_MS);
      }
      res.write(chunk);
      gathered += chunk.length;
      if (gathered < FLUSH_BYTES) continue;
      flush();
      if (res.writableLength >= QUEUED_BYTES) await drained(res);
    }
  } finally {
    res.off('close', hungUp);
    if (timer) flush();
  }
}
