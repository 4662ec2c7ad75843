import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { freePort } from '../helpers/distribution-auth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { forward, LoopbackProxy } from '../helpers/proxy.js';

const CHUNK = 256 * 1024;

/** Forwards to a registry port; can hold one request until the test lets it go (deterministic "mid-push"). */
class Proxy extends LoopbackProxy {
  readonly patches: { range: string; status: number }[] = [];
  hold?: { match: (req: http.IncomingMessage) => boolean; release: Promise<void>; held: () => void };
  /** Connections to drop (the network going away under a push). */
  drop?: (req: http.IncomingMessage) => boolean;

  constructor(private readonly upstreamPort: number) {
    super();
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.drop?.(req)) return void req.socket.destroy();
    const hold = this.hold;
    if (hold?.match(req)) {
      this.hold = undefined;
      hold.held();
      await hold.release;
    }
    const up = forward(req, `http://127.0.0.1:${this.upstreamPort}`, (upRes) => {
      if (req.method === 'PATCH') this.patches.push({ range: String(req.headers['content-range']), status: upRes.statusCode! });
      res.writeHead(upRes.statusCode!, upRes.headers);
      upRes.pipe(res);
    });
    // The registry is between instances: what a load balancer says then.
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Length': '0', Connection: 'close' }).end();
    });
  }
}

/** A signal is handled when the process gets to it: wait (bounded) until the server says it is draining. */
async function untilDraining(url: string): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await fetch(`${url}/readyz`, { headers: { connection: 'close' } })).status !== 503) {
    assert.ok(Date.now() < until, 'the server never started draining');
    await sleep(20);
  }
}

let src: string;
let image: BuiltImage;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });

before(async () => {
  src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'big', [{ 'data/random': randomBytes(3 * 1024 * 1024) }]);
});

describe('draining on SIGTERM', () => {
  test('new requests get 503 UNAVAILABLE with Retry-After and /readyz says not ready, until the listener closes', async () => {
    const server = await startBerth({ env: { BERTH_HTTP_DRAIN_PERIOD: '5s' } });
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    server.process.kill('SIGTERM');
    await untilDraining(server.url);
    const v2 = await fetch(`${server.url}/v2/`, { headers: { connection: 'close' } });
    assert.equal(v2.status, 503);
    assert.equal(v2.headers.get('retry-after'), '1');
    assert.deepEqual(((await v2.json()) as { errors: { code: string }[] }).errors.map((e) => e.code), ['UNAVAILABLE']);
    const ready = await fetch(`${server.url}/readyz`, { headers: { connection: 'close' } });
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { status: string }).status, 'not ready');
    assert.equal(await server.exited, 0);
    await assert.rejects(fetch(`${server.url}/v2/`), 'the listener is closed after the drain');
  });

  test('a push interrupted by a restart retries through the drain and resumes the session at the registry offset', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const opts = { dataDir, args: ['--addr', `127.0.0.1:${port}`], env: { BERTH_HTTP_DRAIN_PERIOD: '1s' } };
    let server: BerthServer = await startBerth(opts);
    const proxy = new Proxy(port);
    await proxy.start();
    try {
      const host = `127.0.0.1:${proxy.port}`;
      const e = { ...env(), BERTH_CHUNK_BYTES: String(CHUNK), BERTH_RETRIES: '10' };
      assert.equal((await berth(['copy', `oci:${src}:big`, `local:${host}/drain/app:v1`], e)).code, 0);
      // The third chunk waits at the proxy while the registry restarts under it.
      let patches = 0;
      let held!: () => void;
      const isHeld = new Promise<void>((r) => (held = r));
      let release!: () => void;
      proxy.hold = { match: (req) => req.method === 'PATCH' && ++patches === 3, release: new Promise((r) => (release = r)), held };
      const push = berth(['push', `${host}/drain/app:v1`], e);
      await isHeld;
      server.process.kill('SIGTERM');
      // Let the held chunk reach the draining server, then bring the next instance up on the same port and data.
      await untilDraining(server.url);
      release();
      await server.exited;
      server = await startBerth(opts);
      const r = await push;
      assert.equal(r.code, 0, r.stderr);
      // The held chunk meets the drain: a 503, or (when the registry answers before reading the body and closes) a broken
      // request the proxy reports as 502. Either way the push resumes at the offset the registry reports.
      assert.match(r.stderr, new RegExp(`upload interrupted at byte ${2 * CHUNK} \\(HTTP 50[23]\\); resuming`));
      assert.match(r.stderr, /HTTP 503/, 'the drain answered 503');
      assert.match(r.stdout, new RegExp(`digest: ${image.manifestDigest}`));

      const accepted = proxy.patches.filter((p) => p.status === 202).map((p) => p.range.split('-').map(Number) as [number, number]);
      let next = 0;
      for (const [from, to] of accepted) {
        assert.equal(from, next, `chunk ${from}-${to} starts where the registry stood: no byte it had was sent again`);
        next = to + 1;
      }
      const pulled = await berth(['pull', '--json', `${server.host}/drain/app:v1`], env());
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal((JSON.parse(pulled.stdout) as { digest: string }).digest, image.manifestDigest);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });

  test('a push that gave up is resumed by the next push at the offset the registry holds', async () => {
    const server = await startBerth();
    const proxy = new Proxy(Number(server.host.split(':')[1]));
    await proxy.start();
    try {
      const host = `127.0.0.1:${proxy.port}`;
      const e = { ...env(), BERTH_CHUNK_BYTES: String(CHUNK), BERTH_RETRIES: '0' };
      assert.equal((await berth(['copy', `oci:${src}:big`, `local:${host}/resume/app:v1`], e)).code, 0);
      let patches = 0;
      // After two chunks the network is gone, status requests included.
      proxy.drop = (req) => (req.method === 'PATCH' && ++patches > 2) || (req.method === 'GET' && req.url!.includes('/blobs/uploads/'));
      const failed = await berth(['push', `${host}/resume/app:v1`], e);
      assert.equal(failed.code, 5, failed.stderr);
      proxy.drop = undefined;
      const before = proxy.patches.length;
      const r = await berth(['push', `${host}/resume/app:v1`], e);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`resuming the upload of ${image.layers[0]!.digest.slice(0, 19)} at byte ${2 * CHUNK} \\(left by an earlier push\\)`));
      assert.equal(proxy.patches[before]!.range, `${2 * CHUNK}-${3 * CHUNK - 1}`, 'the second push starts where the first one stopped');
      const pulled = await berth(['pull', '--json', `${server.host}/resume/app:v1`], env());
      assert.equal((JSON.parse(pulled.stdout) as { digest: string }).digest, image.manifestDigest);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});
