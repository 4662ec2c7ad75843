import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { randomBlob, sha256 } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { until } from '../helpers/wait.js';
import { readThenStall } from '../helpers/stalled-reader.js';


describe('no client can hold the registry\'s resources forever', () => {
  let server: BerthServer;
  let api: Raw;

  before(async () => {
    server = await startBerth({ config: 'http:\n  bodyIdleTimeout: 1s\n  sendIdleTimeout: 1s\n  maxConnections: 12\nuploads:\n  maxSessions: 5\n' });
    api = new Raw(server.url);
  });
  after(() => server?.stop());

  test('open upload sessions are capped per client; a finished or cancelled one makes room', async () => {
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await api.startUpload('caps/app'));
    const refused = await api.fetch('/v2/caps/app/blobs/uploads/', { method: 'POST' });
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'TOOMANYREQUESTS');
    assert.match(body.errors[0]!.message, /5 upload sessions open .* finish or cancel/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await api.fetch(sessions[0]!, { method: 'DELETE' })).status, 204);
    const again = await api.startUpload('caps/app');
    for (const s of [...sessions.slice(1), again]) await api.fetch(s, { method: 'DELETE' });
  });

  test('a body that stalls is cut off; the session stays resumable at its last chunk; the log says the client went away', async () => {
    const b = randomBlob(3000, 0.77);
    const loc = await api.startUpload('stall/app');
    const first = await api.fetch(loc, { method: 'PATCH', body: b.bytes.subarray(0, 1000), headers: { 'Content-Range': '0-999' } });
    assert.equal(first.status, 202);
    const url = new URL(first.headers.get('location')!, server.url);
    const sock = connect(Number(url.port), url.hostname);
    let closed = false;
    sock.on('close', () => (closed = true)).on('error', () => {});
    sock.write(`PATCH ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nContent-Range: 1000-2999\r\n\r\n`);
    sock.write(b.bytes.subarray(1000, 1500));
    await until(() => closed, 'the server to cut the stalled request off');
    const status = await api.fetch(url.pathname);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-999', 'the half-sent chunk is not counted');
    const rest = await api.fetch(`${url.pathname}?digest=${b.digest}`, { method: 'PUT', body: b.bytes.subarray(1000), headers: { 'Content-Range': '1000-2999' } });
    assert.equal(rest.status, 201, 'resumed where it was');
    await until(() => server.logs.some((l) => l.msg === 'client went away before the request finished'), 'the log line');
    const line = server.logs.find((l) => l.msg === 'client went away before the request finished')!;
    assert.equal(line.level, 30, 'info, not error');
    assert.ok(!server.logs.some((l) => l.msg === 'internal error'), 'no stack trace as an internal error');
  });

  test('a client that stops reading a blob but keeps its connection is cut off; the blob is still served whole', async () => {
    // Larger than the socket buffers on both sides of loopback, so a client that stops reading leaves most of it unsent.
    const b = randomBlob(64 << 20, 0.78);
    assert.equal((await api.pushBlob('stall/big', b)).status, 201);
    const url = `${server.url}/v2/stall/big/blobs/${b.digest}`;
    const stuck = await readThenStall(url);
    const cut = () => server.logs.find((l) => l.msg === 'blob body cut short: the client stopped reading');
    await until(() => cut() !== undefined, 'the log line saying the client was cut off');
    assert.equal(cut()!.reason, 'the client took nothing of the response for 1 s');
    assert.equal(cut()!.level, 30, 'info: a client going quiet is not a server error');
    const rest = await stuck.resume();
    assert.equal(rest.complete, false, 'the body ends short, so the client knows it has not got the blob');
    assert.ok(rest.received < b.bytes.length, `got ${rest.received} of ${b.bytes.length} bytes`);
    const again = await api.fetch(url);
    assert.equal(sha256(Buffer.from(await again.arrayBuffer())), b.digest);
  });

  test('connections beyond http.maxConnections are closed as they arrive; the registry keeps serving', async () => {
    const sockets: Socket[] = [];
    let closedByServer = 0;
    for (let i = 0; i < 30; i++) {
      const s = connect(Number(new URL(server.url).port), '127.0.0.1');
      s.on('close', () => closedByServer++).on('error', () => {});
      sockets.push(s);
    }
    await until(() => closedByServer >= 18, 'the extra connections to be closed');
    for (const s of sockets) s.destroy();
    await sleep(100);
    assert.equal((await api.fetch('/v2/')).status, 200);
  });
});
