import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { startBerth, type BerthServer } from './helpers/berth.js';

/**
 * Invariant 5: bodies stream. A 1 GiB blob goes up (as one chunked PATCH, the
 * way podman sends layers) and comes back down, and the server's peak resident
 * memory stays far below the blob's size. No timing is asserted.
 */
const SIZE = 1 << 30;
const CHUNK = 1 << 20;
const PEAK_LIMIT = 300 * 1024 * 1024;

/** 1 GiB made on the fly: each MiB a random block stamped with its index, so no two are alike. */
function generated(hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(CHUNK);
  let i = 0;
  return new Readable({
    read() {
      if (i * CHUNK >= SIZE) return void this.push(null);
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(i++, 0);
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  assert.ok(kb, 'VmHWM readable');
  return Number(kb) * 1024;
}

/** Streams `body` as a request without Content-Length (Transfer-Encoding: chunked) and returns the response. */
function send(url: URL, method: string, body: Readable | undefined, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers });
    req.on('response', resolve);
    req.on('error', reject);
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

describe('a 1 GiB blob streams through berth serve', { skip: process.platform === 'linux' ? undefined : 'reads /proc/<pid>/status' }, () => {
  let server: BerthServer | undefined;
  after(async () => {
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('push and pull keep the server peak RSS under 300 MB', async (t) => {
    server = await startBerth();
    const pid = server.process.pid!;
    const idle = peakRss(pid);
    const base = new URL(server.url);
    const repo = 'big/blob';

    const start = await send(new URL(`/v2/${repo}/blobs/uploads/`, base), 'POST', undefined);
    start.resume();
    assert.equal(start.statusCode, 202);
    const up = createHash('sha256');
    const patch = await send(new URL(start.headers.location!, base), 'PATCH', generated(up), { 'Content-Type': 'application/octet-stream' });
    patch.resume();
    assert.equal(patch.statusCode, 202);
    assert.equal(patch.headers.range, `0-${SIZE - 1}`);
    const digest = `sha256:${up.digest('hex')}`;
    const close = new URL(patch.headers.location!, base);
    close.searchParams.set('digest', digest);
    const put = await send(close, 'PUT', undefined);
    put.resume();
    assert.equal(put.statusCode, 201);
    assert.equal(put.headers['docker-content-digest'], digest);

    const get = await send(new URL(`/v2/${repo}/blobs/${digest}`, base), 'GET', undefined);
    assert.equal(get.statusCode, 200);
    assert.equal(get.headers['content-length'], String(SIZE));
    const down = createHash('sha256');
    let received = 0;
    for await (const chunk of get as AsyncIterable<Buffer>) {
      received += chunk.length;
      down.update(chunk);
    }
    assert.equal(received, SIZE);
    assert.equal(`sha256:${down.digest('hex')}`, digest, 'pulled bytes match');

    const peak = peakRss(pid);
    const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
    t.diagnostic(`server peak RSS ${mib(peak)} (${mib(idle)} at start) while streaming ${mib(SIZE)} up and down`);
    assert.ok(peak < PEAK_LIMIT, `server peak RSS ${mib(peak)} for a ${mib(SIZE)} blob`);
    assert.ok(peak - idle < SIZE / 8, `streaming grew the server by ${mib(peak - idle)}: a body was buffered`);
  });
});
