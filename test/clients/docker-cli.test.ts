import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { imageConfig, imageIndex, imageManifest, randomBlob } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { missingTools, run } from '../helpers/tools.js';

/** The first bytes a real TLS client sends: captured from node:tls against a listener that never answers. */
async function realClientHello(): Promise<Buffer> {
  const listener = createServer();
  const hello = new Promise<Buffer>((resolve) => listener.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const client = tlsConnect({ host: '127.0.0.1', port: (listener.address() as { port: number }).port, servername: 'registry.example' });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  listener.close();
  return bytes;
}

/** Sends `bytes` on a fresh connection and collects everything until the server closes it. */
function exchange(host: string, port: number, bytes: Buffer): Promise<{ reply: string; closedCleanly: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('end', () => resolve({ reply, closedCleanly: true }));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve({ reply, closedCleanly: false }) : reject(e)));
    socket.setTimeout(10_000, () => reject(new Error('no answer to the ClientHello')));
  });
}

describe('docker CLI (client only) against berth serve', () => {
  let server: BerthServer;
  let raw: Raw;
  const config = imageConfig();
  const layer = randomBlob(2048, 0.3);
  const image = imageManifest(config, [layer]);
  const armConfig = imageConfig('arm64');
  const armImage = imageManifest(armConfig, [layer]);
  const index = imageIndex([
    { manifest: image, platform: { architecture: 'amd64', os: 'linux' } },
    { manifest: armImage, platform: { architecture: 'arm64', os: 'linux' } },
  ]);
  const docker = (dockerConfig: string, ...args: string[]) => run('docker', args, { env: { DOCKER_CONFIG: dockerConfig }, timeoutMs: 60_000 });

  before(async () => {
    server = await startBerth();
    raw = new Raw(server.url);
    await raw.pushImage('team/app', 'v1', [config, layer], image);
    await raw.pushImage('team/app', armImage.digest, [armConfig], armImage);
    assert.equal((await raw.pushManifest('team/app', 'multi', index, 'application/vnd.oci.image.index.v1+json')).status, 201);
  });
  after(() => server?.stop());

  test('a TLS ClientHello is answered with a plain HTTP/1.1 400 and an OCI error, then a clean close', async () => {
    const [host, port] = server.host.split(':') as [string, string];
    const hello = await realClientHello();
    assert.equal(hello[0], 0x16, 'a TLS handshake record');
    const { reply, closedCleanly } = await exchange(host, Number(port), hello);
    assert.match(reply, /^HTTP\/1\.1 400 /, 'docker falls back to HTTP only on this');
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { errors: { code: string }[] };
    assert.ok(body.errors[0]?.code, 'the body is an OCI error');
    assert.ok(closedCleanly, 'the socket is ended, not reset');
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200, 'the server carries on');
  });

  describe('docker', { skip: missingTools('docker') }, () => {
    test('docker login falls back from HTTPS to HTTP and stores the credentials', async () => {
      const dockerConfig = tempDir('berth-docker-');
      const from = server.logs.length;
      const login = await run('docker', ['login', server.host, '-u', 'x', '--password-stdin'], { env: { DOCKER_CONFIG: dockerConfig }, input: 'y\n' });
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      assert.match(login.stderr, /server gave HTTP response to HTTPS client/, 'it tried HTTPS first and understood the reply');
      assert.ok(
        server.logs.slice(from).some((l) => l.method === 'GET' && l.path === '/v2/' && l.status === 200),
        'then reached /v2/ over plain HTTP',
      );
      const saved = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
      assert.equal(Buffer.from(saved.auths[server.host]!.auth, 'base64').toString(), 'x:y');
    });

    test('docker manifest inspect --insecure shows the pushed image and index', async () => {
      const dockerConfig = tempDir('berth-docker-');
      const img = await docker(dockerConfig, 'manifest', 'inspect', '--insecure', `${server.host}/team/app:v1`);
      assert.equal(img.code, 0, img.stderr);
      assert.deepEqual(JSON.parse(img.stdout), JSON.parse(image.bytes.toString()));
      const verbose = await docker(dockerConfig, 'manifest', 'inspect', '--insecure', '-v', `${server.host}/team/app:v1`);
      assert.equal(verbose.code, 0, verbose.stderr);
      const v = JSON.parse(verbose.stdout) as { Descriptor: { digest: string; size: number } };
      assert.deepEqual([v.Descriptor.digest, v.Descriptor.size], [image.digest, image.bytes.length]);
      const list = await docker(dockerConfig, 'manifest', 'inspect', '--insecure', `${server.host}/team/app:multi`);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout), JSON.parse(index.bytes.toString()));
      const missing = await docker(dockerConfig, 'manifest', 'inspect', '--insecure', `${server.host}/team/app:nope`);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no such manifest/);
    });
  });
});
