import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BERTH_BIN, startBerth, tempDir } from './helpers/berth.js';
import { randomBlob } from './helpers/oci.js';
import { Raw } from './helpers/registry-client.js';

const run = promisify(execFile);

async function serveFails(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [BERTH_BIN, 'serve', ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('configuration', () => {
  test('a YAML config file sets keys; BERTH_* env overrides them', async () => {
    const dir = tempDir();
    const server = await startBerth({
      dataDir: join(dir, 'data'),
      config: 'limits:\n  maxManifestSize: 1KiB\n  maxListEntries: 2\n',
      env: { BERTH_LIMITS_MAX_LIST_ENTRIES: '3' },
    });
    try {
      const api = new Raw(server.url);
      const big = await api.fetch('/v2/c/x/manifests/v1', { method: 'PUT', body: Buffer.alloc(2000, 0x20), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(big.status, 413);
      const r = await api.fetch('/v2/_catalog?n=100');
      assert.equal(r.status, 200);
    } finally {
      await server.stop();
    }
  });

  test('an invalid key or value stops the server with a message naming it', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'http:\n  addr: nonsense\nlimits:\n  maxListEntries: -4\nunknownSection: 1\nscan:\n  policy:\n    - { repos: "prod/**" }\n');
    const r = await serveFails(['--config', file, '--data', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /http\.addr/);
    assert.match(r.stderr, /limits\.maxListEntries/);
    assert.match(r.stderr, /unknownSection/);
    assert.match(r.stderr, /scan\.policy\.0.*a scan rule needs severity, secrets: true, or both/);
    const env = await serveFails(['--data', dir], { BERTH_LOG_LEVEL: 'loud' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /log\.level/);
    const missing = await serveFails(['--config', join(dir, 'absent.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read config file/);
  });
});

describe('lifecycle', () => {
  test('SIGTERM lets an in-flight upload finish, then exits 0; data survives a restart', async () => {
    const dataDir = tempDir();
    const server = await startBerth({ dataDir });
    const api = new Raw(server.url);
    const b = randomBlob(8 << 20);
    const loc = await api.startUpload('life/app');
    // Send the body slowly so SIGTERM lands mid-request.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < 8; i++) {
          controller.enqueue(new Uint8Array(b.bytes.subarray(i << 20, (i + 1) << 20)));
          if (i === 2) server.process.kill('SIGTERM');
          await new Promise((r) => setTimeout(r, 50));
        }
        controller.close();
      },
    });
    const patch = await fetch(new URL(loc, server.url), { method: 'PATCH', body, duplex: 'half' } as RequestInit);
    assert.equal(patch.status, 202);
    assert.equal(patch.headers.get('range'), `0-${(8 << 20) - 1}`);
    assert.equal(await server.exited, 0);
    assert.ok(server.logs.some((l) => l.msg === 'shutting down: finishing in-flight requests'));

    const again = await startBerth({ dataDir });
    try {
      const api2 = new Raw(again.url);
      // The upload stayed resumable across the restart (its hash is rebuilt from the stored bytes).
      const put = await api2.fetch(`${loc}?digest=${b.digest}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      assert.equal((await api2.fetch(`/v2/life/app/blobs/${b.digest}`, { method: 'HEAD' })).headers.get('content-length'), String(8 << 20));
    } finally {
      await again.stop();
    }
  });

  test('logs are JSON lines with request id, method, path, status and duration, and no secrets', async () => {
    const server = await startBerth();
    try {
      await fetch(`${server.url}/v2/`, { headers: { Authorization: 'Basic c2VjcmV0LXVzZXI6aHVudGVyMg==' } });
      await new Promise((r) => setTimeout(r, 100));
      const line = server.logs.find((l) => l.msg === 'request' && l.path === '/v2/');
      assert.ok(line, 'a request log line');
      assert.equal(line.method, 'GET');
      assert.equal(line.status, 200);
      assert.equal(typeof line.reqId, 'string');
      assert.equal(typeof line.ms, 'number');
      assert.ok(!JSON.stringify(server.logs).includes('c2VjcmV0LXVzZXI6aHVudGVyMg'));
    } finally {
      await server.stop();
    }
  });
});
