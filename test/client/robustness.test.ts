import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/distribution-auth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { forward, LoopbackProxy } from '../helpers/proxy.js';

type Fault = 'none' | 'drop' | 'cut-half' | 'busy';

/**
 * A loopback proxy in front of a real berth serve that misbehaves on cue,
 * the way flaky networks and busy registries do.
 */
class FaultyProxy extends LoopbackProxy {
  readonly seen: { method: string; url: string; range?: string }[] = [];
  private readonly rules: { match: (req: http.IncomingMessage) => boolean; fault: Fault; times: number }[] = [];

  constructor(private readonly upstream: string) {
    super();
  }

  inject(match: (req: http.IncomingMessage) => boolean, fault: Fault, times = 1): void {
    this.rules.push({ match, fault, times });
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.seen.push({ method: req.method!, url: req.url!, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const rule = this.rules.find((r) => r.times > 0 && r.match(req));
    if (rule) rule.times--;
    const fault = rule?.fault ?? 'none';
    if (fault === 'drop') return void req.socket.destroy();
    if (fault === 'busy') {
      req.resume();
      return void res.writeHead(503, { 'Retry-After': '1', 'Content-Length': '0' }).end();
    }
    forward(req, this.upstream, (upRes) => {
      res.writeHead(upRes.statusCode!, upRes.headers);
      if (fault !== 'cut-half') return void upRes.pipe(res);
      const half = Math.floor(Number(upRes.headers['content-length']) / 2);
      let sent = 0;
      upRes.on('data', (d: Buffer) => {
        if (sent >= half) return;
        const part = d.subarray(0, Math.max(0, half - sent));
        sent += part.length;
        res.write(part);
        if (sent >= half) setTimeout(() => res.socket?.destroy(), 50);
      });
    });
  }
}

let server: BerthServer;
let proxy: FaultyProxy;
let image: BuiltImage;
let src: string;
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const env = (extra: Record<string, string> = {}) => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir(), ...extra });
const host = () => `127.0.0.1:${proxy.port}`;

before(async () => {
  server = await startBerth();
  proxy = new FaultyProxy(server.url);
  await proxy.start();
  src = tempDir('berth-src-');
  const noise = createHash('sha512');
  const bytes = Buffer.concat(Array.from({ length: 50_000 }, (_, i) => noise.update(String(i)).copy().digest()));
  image = await writeLayoutImage(src, 'app', [{ 'data/noise': bytes }]);
});
after(async () => {
  await proxy.stop();
  await server.stop();
});

describe('robustness: retries, resume, chunked upload', () => {
  test('a chunked push survives a dropped PATCH: the chunk is resumed from the offset the registry reports', async () => {
    const e = env({ BERTH_CHUNK_BYTES: String(256 * 1024) });
    ok(await berth(['copy', `oci:${src}:app`, `local:${host()}/robust/app:v1`], e));
    let patches = 0;
    proxy.inject((req) => req.method === 'PATCH' && ++patches === 2, 'drop');
    const push = await berth(['push', `${host()}/robust/app:v1`], e);
    ok(push);
    const patchCount = proxy.seen.filter((s) => s.method === 'PATCH').length;
    assert.ok(patchCount > Math.ceil(image.layers[0]!.size / (256 * 1024)), `the dropped chunk was sent again (${patchCount} PATCHes)`);
    assert.ok(proxy.seen.some((s) => s.method === 'GET' && s.url.includes('/blobs/uploads/')), 'asked the registry where the upload stood');
    assert.match(push.stdout, new RegExp(`digest: ${image.manifestDigest}`));
  });

  test('503 with Retry-After is retried; a blob cut off halfway resumes with Range and verifies', async () => {
    const layer = image.layers[0]!.digest;
    proxy.inject((req) => req.method === 'GET' && req.url!.includes('/manifests/'), 'busy');
    proxy.inject((req) => req.method === 'GET' && req.url!.endsWith(`/blobs/${layer}`) && !req.headers.range, 'cut-half');
    const e = env();
    const pull = await berth(['pull', `${host()}/robust/app:v1`], e);
    ok(pull);
    assert.match(pull.stderr, /HTTP 503 from 127\.0\.0\.1:\d+; retrying in 1\.0s/);
    assert.match(pull.stderr, /connection lost at byte \d+ of sha256:/);
    const ranged = proxy.seen.find((s) => s.url.endsWith(`/blobs/${layer}`) && s.range);
    assert.ok(ranged, 'the second request asked for the rest only');
    assert.match(ranged.range!, /^bytes=[1-9]\d*-$/);
    const stored = readFileSync(join(e.BERTH_HOME, 'blobs', 'sha256', layer.slice(7)));
    assert.equal(`sha256:${createHash('sha256').update(stored).digest('hex')}`, layer);
  });

  test('an unreachable registry fails with exit 5 after its retries', async () => {
    const port = await freePort();
    const r = await berth(['pull', `127.0.0.1:${port}/nothing/here:v1`], env({ BERTH_RETRIES: '1' }));
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  });
});
