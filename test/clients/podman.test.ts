import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { sha256 } from '../helpers/oci.js';
import { missingTools, Tools, umociImage, type LayoutImage } from '../helpers/tools.js';

const skip = missingTools('podman', 'buildah', 'skopeo', 'umoci', 'unshare');

/** A loopback TCP relay to `target` that keeps the request heads clients send, to see how they frame bodies. */
async function headRecorder(target: { host: string; port: number }): Promise<{ server: Server; host: string; heads: string[] }> {
  const heads: string[] = [];
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    let seen = '';
    client.on('data', (d: Buffer) => {
      // Heads are ASCII; bodies in between are skipped by looking only for request lines.
      seen = (seen + d.toString('latin1')).slice(-1 << 20);
      for (const m of seen.matchAll(/(?:^|\r\n)((?:GET|HEAD|POST|PUT|PATCH|DELETE) \/v2\/[^\r]*\r\n(?:[^\r]+\r\n)*)\r\n/g)) heads.push(m[1]!);
      seen = seen.slice(seen.lastIndexOf('\r\n\r\n') + 4);
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, heads, host: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('podman and buildah against berth serve', { skip }, () => {
  let server: BerthServer;
  let tools: Tools;
  let layout: string;
  let app: LayoutImage;
  const tls = '--tls-verify=false';

  /** Every blob the manifest at `ref` names, fetched from Berth and hashed. */
  async function assertPullableIntact(repo: string, ref: string): Promise<{ config: { digest: string }; layers: { digest: string }[] }> {
    const res = await fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(res.status, 200);
    const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const { digest } of [manifest.config, ...manifest.layers]) {
      const blob = await fetch(`${server.url}/v2/${repo}/blobs/${digest}`);
      assert.equal(blob.status, 200);
      assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), digest);
    }
    return manifest;
  }

  before(async () => {
    tools = new Tools();
    // podman names an image pulled from `oci:PATH` after PATH, which must then be lowercase.
    layout = join(tmpdir(), `berth-podman-${process.pid}-${Math.random().toString(36).slice(2)}`);
    app = await umociImage(layout, 'v1', { 'etc/motd': 'from podman\n', 'bin/app': Buffer.alloc(150_000, 9) });
    server = await startBerth();
  });
  after(() => server?.stop());

  test('podman push uploads with chunked PATCHes; podman pull gets the same image back', async () => {
    await tools.podman('pull', '--quiet', `oci:${layout}:v1`);
    const [host, port] = server.host.split(':') as [string, string];
    const recorder = await headRecorder({ host, port: Number(port) });
    try {
      const digestFile = join(tools.dir, 'podman.digest');
      await tools.podman('push', '--quiet', tls, '--digestfile', digestFile, app.config!.slice(7), `${recorder.host}/pod/app:v1`);
      // The layer is compressed while it streams, so its length is unknown: chunked, no Content-Length.
      const streamed = recorder.heads.filter((h) => h.startsWith('PATCH ') && /^transfer-encoding: chunked$/im.test(h));
      assert.equal(streamed.length, app.layers.length, 'every layer went up as a chunked PATCH');
      for (const h of streamed) assert.doesNotMatch(h, /^content-length:/im);
      const pushed = readFileSync(digestFile, 'utf8').trim();
      const manifest = await assertPullableIntact('pod/app', 'v1');
      assert.equal(manifest.config.digest, app.config, 'the config is pushed unchanged');
      assert.equal(sha256(Buffer.from(await (await fetch(`${server.url}/v2/pod/app/manifests/v1`, { headers: { Accept: app.mediaType } })).arrayBuffer())), pushed);
    } finally {
      recorder.server.close();
    }
    await tools.podman('rmi', '--all', '--force');
    await tools.podman('pull', '--quiet', tls, `${server.host}/pod/app:v1`);
    const [image] = JSON.parse(await tools.podman('image', 'inspect', `${server.host}/pod/app:v1`)) as { Id: string }[];
    assert.equal(`sha256:${image!.Id}`, app.config, 'same image id (config digest)');
  });

  test('podman pulls what skopeo pushed, by tag and by digest, with the pushed manifest digest', async () => {
    await tools.skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${server.host}/sk/app:v1`);
    await tools.podman('rmi', '--all', '--force');
    await tools.podman('pull', '--quiet', tls, `${server.host}/sk/app:v1`);
    await tools.podman('pull', '--quiet', tls, `${server.host}/sk/app@${app.digest}`);
    const [image] = JSON.parse(await tools.podman('image', 'inspect', `${server.host}/sk/app:v1`)) as { Id: string; Digest: string; RepoDigests: string[] }[];
    assert.equal(image!.Digest, app.digest);
    assert.equal(`sha256:${image!.Id}`, app.config);
    assert.ok(image!.RepoDigests.includes(`${server.host}/sk/app@${app.digest}`));
  });

  test('podman push from its own store (recompressed layers) is intact and re-pullable', async () => {
    await tools.podman('tag', `${server.host}/sk/app:v1`, `${server.host}/pod/store:v2`);
    await tools.podman('push', '--quiet', tls, `${server.host}/pod/store:v2`);
    const manifest = await assertPullableIntact('pod/store', 'v2');
    assert.equal(manifest.config.digest, app.config);
    await tools.podman('rmi', '--all', '--force');
    await tools.podman('pull', '--quiet', tls, `${server.host}/pod/store:v2`);
  });

  test('buildah push: a buildah-built image lands with the digest buildah reports', async () => {
    const file = join(tools.dir, 'hello.txt');
    writeFileSync(file, 'built by buildah\n');
    const c = (await tools.buildah('from', '--quiet', 'scratch')).trim();
    await tools.buildah('copy', '--quiet', c, file, '/hello.txt');
    await tools.buildah('config', '--cmd', '/hello', '--label', 'built-by=buildah', c);
    await tools.buildah('commit', '--quiet', c, 'localhost/bud:v1');
    const digestFile = join(tools.dir, 'buildah.digest');
    await tools.buildah('push', '--quiet', tls, '--digestfile', digestFile, 'localhost/bud:v1', `docker://${server.host}/bud/app:v1`);
    const digest = readFileSync(digestFile, 'utf8').trim();
    const info = JSON.parse(await tools.skopeo('inspect', tls, `docker://${server.host}/bud/app:v1`)) as { Digest: string; Labels: Record<string, string> };
    assert.equal(info.Digest, digest);
    assert.equal(info.Labels['built-by'], 'buildah');
    await assertPullableIntact('bud/app', digest);
    await tools.podman('pull', '--quiet', tls, `${server.host}/bud/app:v1`);
  });
});
