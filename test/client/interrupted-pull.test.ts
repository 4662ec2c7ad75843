import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { forward, LoopbackProxy } from '../helpers/proxy.js';

/** Passes a blob GET on until `limit` body bytes, then goes quiet: a pull that stalls until someone presses Ctrl-C. */
class StallingProxy extends LoopbackProxy {
  constructor(
    private readonly upstream: BerthServer,
    private readonly digest: string,
    private readonly limit: number,
  ) {
    super();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    forward(req, this.upstream.url, (upRes) => {
      res.writeHead(upRes.statusCode!, upRes.headers);
      if (!req.url!.endsWith(`/blobs/${this.digest}`) || req.method !== 'GET') return void upRes.pipe(res);
      let sent = 0;
      upRes.on('data', (d: Buffer) => {
        const part = d.subarray(0, Math.max(0, this.limit - sent));
        sent += part.length;
        if (part.length) res.write(part);
      });
    });
  }
}

let server: BerthServer;
let proxy: StallingProxy;
let image: BuiltImage;
let layer: { digest: string; size: number };
const HALF = () => Math.floor(layer.size / 2);
const partialFile = (home: string) => join(home, 'blobs', '.partial', `sha256-${layer.digest.slice(7)}`);
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });

/** Starts `berth pull` through the stalling proxy and presses Ctrl-C once half the layer is on disk. */
async function interruptedPull(e: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, [BERTH_BIN, 'pull', `127.0.0.1:${proxy.port}/big/app:v1`], { env: { ...process.env, ...e }, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 30_000;
  // Half the layer on disk, and the small config blob finished beside it (so the layer is the one partial).
  const config = join(e.BERTH_HOME!, 'blobs', 'sha256', image.configDigest.slice(7));
  while (!(existsSync(partialFile(e.BERTH_HOME!)) && statSync(partialFile(e.BERTH_HOME!)).size >= HALF() && existsSync(config))) {
    assert.ok(Date.now() < until, 'the pull never got halfway');
    await sleep(50);
  }
  child.kill('SIGINT');
  await exited;
  return statSync(partialFile(e.BERTH_HOME!)).size;
}

before(async () => {
  server = await startBerth();
  const src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'big', [{ 'data/random': randomBytes(2 * 1024 * 1024) }]);
  layer = image.layers[0]!;
  assert.equal((await berth(['copy', `oci:${src}:big`, `${server.host}/big/app:v1`], env())).code, 0);
  proxy = new StallingProxy(server, layer.digest, HALF());
  await proxy.start();
});
after(async () => {
  await proxy.stop();
  await server.stop();
});

describe('an interrupted pull', () => {
  test('leaves a partial that df counts and store verify notices; the next pull resumes it with Range', async () => {
    const e = env();
    const kept = await interruptedPull(e);
    assert.equal(kept, HALF());

    const df = JSON.parse((await berth(['df', '--json'], e)).stdout) as { diskBytes: number; partial: { count: number; bytes: number } };
    assert.deepEqual(df.partial, { count: 1, bytes: kept });
    assert.ok(df.diskBytes >= kept, 'disk use includes the partial');
    const verify = await berth(['store', 'verify'], e);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, new RegExp(`^partial: ${layer.digest} \\(1\\.05MB of an interrupted pull; the next pull resumes it, berth store prune removes it\\)$`, 'm'));

    // Straight from the registry this time: the partial is found by digest, whatever the reference.
    const pull = await berth(['pull', `${server.host}/big/app:v1`], e);
    assert.equal(pull.code, 0, pull.stderr);
    const gets = server.logs.filter((l) => l.method === 'GET' && l.path === `/v2/big/app/blobs/${layer.digest}`);
    const last = gets[gets.length - 1]!;
    assert.equal(last.status, 206, 'asked for the rest only');
    assert.equal(last.bytesOut, layer.size - kept, 'the bytes it had were not downloaded again');
    const stored = readFileSync(join(e.BERTH_HOME, 'blobs', 'sha256', layer.digest.slice(7)));
    assert.equal(`sha256:${createHash('sha256').update(stored).digest('hex')}`, layer.digest);
    assert.equal(existsSync(partialFile(e.BERTH_HOME)), false);
    assert.match((await berth(['store', 'verify'], e)).stdout, /0 corrupt, 0 missing, 0 partial download\(s\)/);
  });

  test('berth store prune removes a stale partial and says what it freed', async () => {
    const e = env();
    const kept = await interruptedPull(e);
    const prune = await berth(['store', 'prune'], e);
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal(prune.stdout, `Deleted partial download: ${layer.digest.slice(7, 19)} (1.05MB)\nTotal reclaimed space: 1.05MB\n`);
    assert.equal(kept, HALF());
    assert.deepEqual(readdirSync(join(e.BERTH_HOME, 'blobs', '.partial')), []);
    assert.deepEqual((JSON.parse((await berth(['df', '--json'], e)).stdout) as { partial: unknown }).partial, { count: 0, bytes: 0 });
  });

  test('into a full disk: stops at once, naming the store and the space needed', { skip: process.getuid?.() !== 0 && 'mounts a 2 MiB tmpfs: needs root' }, async () => {
    const home = tempDir('berth-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', home]);
    try {
      const r = await berth(['pull', `${server.host}/big/app:v1`], { ...env(), BERTH_HOME: home });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^berth pull: no space left in the local store ${home}: blob ${layer.digest} needs [\\d.]+[kM]B more \\(2\\.\\d+MB in all, 0B free\\)\\. The [\\d.]+[kM]?B downloaded so far are kept`, 'm'));
      assert.doesNotMatch(r.stderr, /retrying|resuming/, 'a full disk is not a network error');
    } finally {
      execFileSync('umount', [home]);
    }
  });
});
