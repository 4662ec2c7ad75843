import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from './helpers/berth.js';
import { blob, randomBlob, sha512 } from './helpers/oci.js';
import { errorCode, Raw, rawRequest } from './helpers/registry-client.js';

let server: BerthServer;
let api: Raw;

before(async () => {
  server = await startBerth();
  api = new Raw(server.url);
});
after(() => server.stop());

describe('blob uploads', () => {
  test('monolithic POST ?digest= stores the blob and serves it back with digest headers', async () => {
    const b = randomBlob(100_000);
    const r = await api.pushBlob('blobs/mono', b);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('docker-content-digest'), b.digest);
    assert.equal(r.headers.get('location'), `/v2/blobs/mono/blobs/${b.digest}`);
    const get = await api.fetch(`/v2/blobs/mono/blobs/${b.digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-length'), '100000');
    assert.equal(get.headers.get('etag'), `"${b.digest}"`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), b.bytes);
  });

  test('chunked PATCH uploads track Range and close with PUT ?digest=', async () => {
    const b = randomBlob(50_000);
    const loc = await api.startUpload('blobs/chunked');
    let r = await api.fetch(loc, {
      method: 'PATCH',
      body: b.bytes.subarray(0, 20_000),
      headers: { 'Content-Range': '0-19999', 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('range'), '0-19999');
    const next = r.headers.get('location')!;
    // A retried first chunk is out of order now: 416 with the current range.
    r = await api.fetch(next, { method: 'PATCH', body: b.bytes.subarray(0, 20_000), headers: { 'Content-Range': '0-19999' } });
    assert.equal(r.status, 416);
    assert.equal(r.headers.get('range'), '0-19999');
    assert.equal(await errorCode(r), 'BLOB_UPLOAD_INVALID');
    r = await api.fetch(next, { method: 'PATCH', body: b.bytes.subarray(20_000), headers: { 'Content-Range': '20000-49999' } });
    assert.equal(r.status, 202);
    const status = await api.fetch(next);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-49999');
    r = await api.fetch(`${next}?digest=${b.digest}`, { method: 'PUT' });
    assert.equal(r.status, 201);
    const head = await api.fetch(`/v2/blobs/chunked/blobs/${b.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '50000');
  });

  test('a digest mismatch is DIGEST_INVALID and stores nothing', async () => {
    const b = blob('real content');
    const wrong = blob('other content');
    const r = await api.fetch(`/v2/blobs/bad/blobs/uploads/?digest=${wrong.digest}`, { method: 'POST', body: b.bytes });
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'DIGEST_INVALID');
    for (const d of [b.digest, wrong.digest]) {
      assert.equal((await api.fetch(`/v2/blobs/bad/blobs/${d}`, { method: 'HEAD' })).status, 404);
    }
    assert.deepEqual((await server.pendingUploads()), []);
  });

  test('sha512 digests work for upload and pull', async () => {
    const bytes = Buffer.from('sha512 content');
    const d = sha512(bytes);
    const r = await api.fetch(`/v2/blobs/sha512/blobs/uploads/?digest=${d}`, { method: 'POST', body: bytes });
    assert.equal(r.status, 201);
    const get = await api.fetch(`/v2/blobs/sha512/blobs/${d}`);
    assert.equal(get.headers.get('docker-content-digest'), d);
    assert.equal(await get.text(), 'sha512 content');
  });

  test('Range requests: 206 for a satisfiable range, 416 beyond the end or reversed', async () => {
    const b = blob('0123456789');
    await api.pushBlob('blobs/range', b);
    const part = await api.fetch(`/v2/blobs/range/blobs/${b.digest}`, { headers: { Range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await part.text(), '2345');
    for (const range of ['bytes=500-0', 'bytes=10-', 'bytes=5-2']) {
      const r = await api.fetch(`/v2/blobs/range/blobs/${b.digest}`, { headers: { Range: range } });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers.get('content-range'), 'bytes */10');
      assert.ok(await errorCode(r));
    }
  });

  test('a Range the server does not understand is ignored (200, whole body), as RFC 9110 says; the last bytes of an empty blob are the empty blob', async () => {
    const b = blob('0123456789');
    await api.pushBlob('blobs/range2', b);
    for (const range of ['items=0-1', 'bytes=abc', 'bytes=0-1,4-5', 'bytes=', 'bytes=-']) {
      const r = await api.fetch(`/v2/blobs/range2/blobs/${b.digest}`, { headers: { Range: range } });
      assert.equal(r.status, 200, range);
      assert.equal(await r.text(), '0123456789', range);
    }
    const empty = blob('');
    await api.pushBlob('blobs/range2', empty);
    const r = await api.fetch(`/v2/blobs/range2/blobs/${empty.digest}`, { headers: { Range: 'bytes=-1' } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '');
  });

  test('multi-MiB blobs come back exact: whole, across chunk boundaries, in parallel, and after a client hangs up mid-body', async () => {
    const b = randomBlob((5 << 20) + 123);
    await api.pushBlob('blobs/big', b);
    const url = `/v2/blobs/big/blobs/${b.digest}`;
    const bodies = await Promise.all([1, 2, 3, 4].map(async () => Buffer.from(await (await api.fetch(url)).arrayBuffer())));
    for (const body of bodies) assert.ok(body.equals(b.bytes), 'every parallel pull returns the pushed bytes');
    const [start, end] = [(1 << 20) - 6, (3 << 20) + 5];
    const part = await api.fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(b.bytes.subarray(start, end + 1)));

    const abort = new AbortController();
    const cut = await api.fetch(url, { signal: abort.signal });
    const reader = cut.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.read().catch(() => {});
    const again = await api.fetch(url);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(b.bytes), 'the registry keeps serving after an aborted pull');
  });

  test('malformed digests are 400 DIGEST_INVALID, never 500', async () => {
    for (const d of ['sha256:xyz', 'md5:abc', 'sha256:' + 'A'.repeat(64), 'nodigest']) {
      const r = await api.fetch(`/v2/blobs/x/blobs/${d}`);
      assert.equal(r.status, 400, d);
      assert.equal(await errorCode(r), 'DIGEST_INVALID');
    }
  });

  test('invalid repository names are NAME_INVALID and create nothing', async () => {
    for (const name of ['Upper/case', 'a/../b', '../../etc', 'a/%2E%2E/b', 'a//b', '-lead', 'x'.repeat(300), 'trailing-/x']) {
      const r = await rawRequest(server.url, 'POST', `/v2/${name}/blobs/uploads/`);
      assert.equal(r.status, 400, name);
      assert.equal(JSON.parse(r.body).errors[0].code, 'NAME_INVALID');
    }
    assert.deepEqual((await server.pendingUploads()), []);
  });
});
