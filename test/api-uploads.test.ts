import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from './helpers/berth.js';
import { blob, randomBlob, sha256 } from './helpers/oci.js';
import { errorCode, Raw } from './helpers/registry-client.js';

let server: BerthServer;
let api: Raw;

before(async () => {
  server = await startBerth({ env: { BERTH_UPLOADS_EXPIRY: '1500ms', BERTH_UPLOADS_PURGE_INTERVAL: '500ms' } });
  api = new Raw(server.url);
});
after(() => server.stop());

/** A PATCH with `Transfer-Encoding: chunked` and no Content-Length, as podman sends it. */
function chunkedPatch(location: string, parts: Buffer[]): Promise<{ status: number; range: string | undefined }> {
  const url = new URL(location, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, range: res.headers.range }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('upload sessions', () => {
  test('POST answers 202 with Location, Docker-Upload-UUID and Range', async () => {
    const r = await api.fetch('/v2/up/session/blobs/uploads/', { method: 'POST' });
    assert.equal(r.status, 202);
    const uuid = r.headers.get('docker-upload-uuid')!;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get('location'), `/v2/up/session/blobs/uploads/${uuid}`);
    assert.equal(r.headers.get('range'), '0-0');
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  test('chunked transfer encoding without Content-Length (podman) is accepted', async () => {
    const b = randomBlob(300_000);
    const loc = await api.startUpload('up/podman');
    const r = await chunkedPatch(loc, [b.bytes.subarray(0, 100_000), b.bytes.subarray(100_000)]);
    assert.equal(r.status, 202);
    assert.equal(r.range, '0-299999');
    const put = await api.fetch(`${loc}?digest=${b.digest}`, { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await api.fetch(`/v2/up/podman/blobs/${b.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), b.bytes);
  });

  test('PUT may carry the last chunk; an empty blob works', async () => {
    const b = blob('first and last');
    const loc = await api.startUpload('up/final');
    await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(0, 5) });
    const r = await api.fetch(`${loc}?digest=${b.digest}`, { method: 'PUT', body: b.bytes.subarray(5) });
    assert.equal(r.status, 201);
    const empty = blob('');
    const loc2 = await api.startUpload('up/final');
    assert.equal((await api.fetch(`${loc2}?digest=${empty.digest}`, { method: 'PUT' })).status, 201);
    const head = await api.fetch(`/v2/up/final/blobs/${empty.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '0');
  });

  test('GET on an upload after its last chunk answers 204 with Range and Location', async () => {
    const loc = await api.startUpload('up/status');
    await api.fetch(loc, { method: 'PATCH', body: Buffer.from('abc') });
    const r = await api.fetch(loc);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('range'), '0-2');
    assert.equal(r.headers.get('location'), loc);
  });

  test('a Content-Range that disagrees with Content-Length is refused and the upload is unchanged', async () => {
    const loc = await api.startUpload('up/mismatch');
    const r = await api.fetch(loc, { method: 'PATCH', body: Buffer.from('abcdef'), headers: { 'Content-Range': '0-9' } });
    assert.equal(r.status, 416);
    assert.equal((await api.fetch(loc)).headers.get('range'), '0-0');
    const bad = await api.fetch(loc, { method: 'PATCH', body: Buffer.from('x'), headers: { 'Content-Range': 'bytes=banana' } });
    assert.equal(bad.status, 416);
    assert.ok(await errorCode(bad));
  });

  test('a Content-Range whose total cannot hold the chunk, or a last chunk not ending at its total, is refused', async () => {
    const b = blob('abcdefghij');
    const loc = await api.startUpload('up/total');
    const short = await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(0, 5), headers: { 'Content-Range': '0-4/3' } });
    assert.equal(short.status, 400);
    assert.equal(await errorCode(short), 'BLOB_UPLOAD_INVALID');
    assert.equal((await api.fetch(loc)).headers.get('range'), '0-0', 'nothing was written');
    const ok = await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(0, 5), headers: { 'Content-Range': '0-4/10' } });
    assert.equal(ok.status, 202);
    const next = ok.headers.get('location')!;
    const wrongEnd = await api.fetch(`${next}${next.includes('?') ? '&' : '?'}digest=${b.digest}`, { method: 'PUT', body: b.bytes.subarray(5), headers: { 'Content-Range': '5-9/12' } });
    assert.equal(wrongEnd.status, 400);
    const done = await api.fetch(`${next}${next.includes('?') ? '&' : '?'}digest=${b.digest}`, { method: 'PUT', body: b.bytes.subarray(5), headers: { 'Content-Range': '5-9/10' } });
    assert.equal(done.status, 201);
  });

  test('a truncated chunk leaves the upload at its last good size and resumable', async () => {
    const b = randomBlob(20_000);
    const loc = await api.startUpload('up/truncated');
    await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(0, 10_000) });
    const url = new URL(loc, server.url);
    await new Promise<void>((resolve) => {
      const sock = net.connect(Number(url.port), url.hostname, () => {
        sock.write(`PATCH ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\nContent-Range: 10000-19999\r\n\r\n`);
        sock.write(Buffer.alloc(4000, 0x41));
        setTimeout(() => sock.destroy(), 100);
      });
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    await sleep(200);
    assert.equal((await api.fetch(loc)).headers.get('range'), '0-9999');
    const r = await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(10_000), headers: { 'Content-Range': '10000-19999' } });
    assert.equal(r.status, 202);
    assert.equal((await api.fetch(`${loc}?digest=${b.digest}`, { method: 'PUT' })).status, 201);
    const got = await api.fetch(`/v2/up/truncated/blobs/${b.digest}`);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), b.digest);
  });

  test('DELETE cancels an upload; it is then unknown', async () => {
    const loc = await api.startUpload('up/cancel');
    assert.equal((await api.fetch(loc, { method: 'DELETE' })).status, 204);
    const r = await api.fetch(loc);
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('an upload cannot be continued through another repository', async () => {
    const loc = await api.startUpload('up/mine');
    const other = loc.replace('/up/mine/', '/up/yours/');
    const r = await api.fetch(other, { method: 'PATCH', body: Buffer.from('x') });
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'BLOB_UPLOAD_UNKNOWN');
    const garbage = await api.fetch('/v2/up/mine/blobs/uploads/not-a-uuid', { method: 'PATCH', body: Buffer.from('x') });
    assert.equal(garbage.status, 404);
  });

  test('stale uploads expire and their bytes are removed', async () => {
    const loc = await api.startUpload('up/stale');
    await api.fetch(loc, { method: 'PATCH', body: Buffer.from('stale bytes') });
    const id = loc.split('/').pop()!;
    assert.ok((await server.pendingUploads()).includes(id));
    await sleep(2500);
    assert.equal((await api.fetch(loc)).status, 404);
    assert.ok(!(await server.pendingUploads()).includes(id));
  });
});

describe('cross-repository mount', () => {
  test('mounts a blob from a repository that has it: 201, no bytes sent', async () => {
    const b = randomBlob(10_000);
    await api.pushBlob('mnt/src', b);
    const r = await api.fetch(`/v2/mnt/dst/blobs/uploads/?mount=${b.digest}&from=mnt/src`, { method: 'POST' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/mnt/dst/blobs/${b.digest}`);
    assert.equal((await api.fetch(`/v2/mnt/dst/blobs/${b.digest}`, { method: 'HEAD' })).status, 200);
  });

  test('mounts without `from` from any repository holding the blob (OCI 1.1)', async () => {
    const b = randomBlob(3_000);
    await api.pushBlob('mnt/anon-src', b);
    const r = await api.fetch(`/v2/mnt/anon-dst/blobs/uploads/?mount=${b.digest}`, { method: 'POST' });
    assert.equal(r.status, 201);
    assert.equal((await api.fetch(`/v2/mnt/anon-dst/blobs/${b.digest}`, { method: 'HEAD' })).status, 200);
    const missing = await api.fetch(`/v2/mnt/anon-dst/blobs/uploads/?mount=${sha256('nowhere')}`, { method: 'POST' });
    assert.equal(missing.status, 202);
  });

  test('falls back to a normal upload session when the source lacks the blob', async () => {
    const r = await api.fetch(`/v2/mnt/dst2/blobs/uploads/?mount=${sha256('absent')}&from=mnt/src`, { method: 'POST' });
    assert.equal(r.status, 202);
    assert.ok(r.headers.get('docker-upload-uuid'));
    const r2 = await api.fetch(`/v2/mnt/dst2/blobs/uploads/?mount=${sha256('absent')}&from=no/such/repo`, { method: 'POST' });
    assert.equal(r2.status, 202);
  });
});

describe('protocol surface', () => {
  test('GET /v2/ answers 200 with the API version header', async () => {
    const r = await api.fetch('/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  test('unknown endpoints and methods answer OCI error JSON', async () => {
    const r = await api.fetch('/v2/x/y/nonsense');
    assert.equal(r.status, 404);
    assert.ok(await errorCode(r));
    const m = await api.fetch('/v2/x/tags/list', { method: 'DELETE' });
    assert.equal(m.status, 405);
    assert.equal(await errorCode(m), 'UNSUPPORTED');
  });

  test('DELETE of a blob unlinks it from that repository only', async () => {
    const b = randomBlob(1000);
    await api.pushBlob('del/a', b);
    await api.pushBlob('del/b', b);
    assert.equal((await api.fetch(`/v2/del/a/blobs/${b.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await api.fetch(`/v2/del/a/blobs/${b.digest}`, { method: 'HEAD' })).status, 404);
    assert.equal((await api.fetch(`/v2/del/b/blobs/${b.digest}`, { method: 'HEAD' })).status, 200);
  });

  test('health and readiness endpoints', async () => {
    assert.equal((await api.fetch('/healthz')).status, 200);
    assert.equal((await api.fetch('/readyz')).status, 200);
  });
});
