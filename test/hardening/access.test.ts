import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { blob, imageConfig, imageManifest } from '../helpers/oci.js';
import { missingTools } from '../helpers/tools.js';
import { basic, bearer, getToken, htpasswdFile, pushImage, smallImage } from '../auth/helpers.js';

const PASSWORDS = { ops: 'ops-Access-1', dev: 'dev-Access-2', nobody: 'nobody-Access-3' };
const skip = missingTools('htpasswd');

interface Usage {
  storedBytes?: number;
  repositories: { name: string; storedBytes: number; uniqueBytes?: number; sharedBytes?: number; images?: { uniqueBytes?: number }[] }[];
}

/**
 * /berth/v1/ reveals nothing the access rules hide: a repository appears only
 * to who may pull it, and shared/unique bytes (which tell whether another
 * repository holds the same layer) only to who has `usage` on it.
 */
describe('the JSON API is authorised like /v2/ and reveals no more', { skip }, () => {
  let server: BerthServer;
  const ops = basic('ops', PASSWORDS.ops);
  const dev = basic('dev', PASSWORDS.dev);
  const nobody = basic('nobody', PASSWORDS.nobody);
  const secretLayer = blob('a layer of the secret image\n');

  before(async () => {
    const dir = tempDir('berth-access-');
    server = await startBerth({
      config: `auth:
  htpasswd: ${htpasswdFile(dir, PASSWORDS)}
access:
  - { repos: "**", users: [ops], actions: ["*"] }
  - { repos: "dev/**", users: [dev], actions: [pull, push] }
  - { repos: "public/**", anonymous: true, actions: [pull] }
quotas:
  full: 3KiB
`,
    });
    const config = imageConfig();
    assert.deepEqual(await pushImage(server.url, 'secret/app', 'v1', ops, { blobs: [config, secretLayer], manifest: imageManifest(config, [secretLayer]) }), [201, 201, 201]);
    assert.deepEqual(await pushImage(server.url, 'public/app', 'v1', ops), [201, 201, 201]);
    assert.deepEqual(await pushImage(server.url, 'dev/app', 'v1', dev), [201, 201, 201]);
  });
  after(() => server?.stop());

  const usage = async (path: string, headers: Record<string, string>) => {
    const r = await fetch(`${server.url}${path}`, { headers });
    return { status: r.status, body: (await r.json()) as Usage };
  };

  test('a user with no rules sees only what anonymous may pull, without totals or shared/unique bytes', async () => {
    const { status, body } = await usage('/berth/v1/usage', nobody);
    assert.equal(status, 200);
    assert.deepEqual(body.repositories.map((r) => r.name), ['public/app']);
    assert.equal(body.storedBytes, undefined, 'registry totals are for operators');
    assert.equal(body.repositories[0]!.uniqueBytes, undefined);
    assert.equal((await usage('/berth/v1/usage?repo=secret/app', nobody)).status, 403);
    assert.equal((await usage('/berth/v1/repositories/secret/app/tags/v1/history', nobody)).status, 403);
  });

  test('pushing a copy of a layer you cannot read does not reveal that it exists elsewhere', async () => {
    // dev pushes the secret image's layer into a repository of its own: if unique bytes were shown, they would drop.
    const config = imageConfig('arm64');
    assert.deepEqual(await pushImage(server.url, 'dev/probe', 'v1', dev, { blobs: [config, secretLayer], manifest: imageManifest(config, [secretLayer]) }), [201, 201, 201]);
    const { body } = await usage('/berth/v1/usage?repo=dev/probe', dev);
    const repo = body.repositories[0]!;
    assert.equal(repo.uniqueBytes, undefined);
    assert.equal(repo.sharedBytes, undefined);
    assert.ok(repo.images!.every((i) => i.uniqueBytes === undefined));
    assert.equal((await fetch(`${server.url}/berth/v1/usage?repo=dev/probe&whatIfDelete=v1`, { headers: dev })).status, 403, 'what-if-delete needs usage too');
  });

  test('an operator with usage everywhere sees every repository, the totals, and that the layer is shared', async () => {
    const { body } = await usage('/berth/v1/usage', ops);
    assert.deepEqual(body.repositories.map((r) => r.name), ['dev/app', 'dev/probe', 'public/app', 'secret/app']);
    assert.equal(typeof body.storedBytes, 'number');
    const probe = body.repositories.find((r) => r.name === 'dev/probe')!;
    assert.ok(probe.sharedBytes! >= secretLayer.bytes.length, 'ops sees the sharing');
  });

  test('token mode grants registry:usage:* only to users with usage everywhere', async () => {
    const dir = tempDir('berth-access-token-');
    const tokenServer = await startBerth({
      config: `auth:
  htpasswd: ${htpasswdFile(dir, PASSWORDS)}
  token: { issuer: berth }
access:
  - { repos: "**", users: [ops], actions: ["*"] }
  - { repos: "dev/**", users: [dev], actions: [pull, push, usage] }
`,
    });
    try {
      const wanted = ['registry:catalog:*', 'registry:usage:*', 'repository:dev/app:pull,usage'];
      const forOps = await getToken(tokenServer.url, { user: 'ops', password: PASSWORDS.ops, scopes: wanted });
      const forDev = await getToken(tokenServer.url, { user: 'dev', password: PASSWORDS.dev, scopes: wanted });
      assert.ok(forOps.access!.some((a) => a.type === 'registry' && a.name === 'usage'));
      assert.ok(!forDev.access!.some((a) => a.type === 'registry' && a.name === 'usage'), 'usage on dev/** is not usage everywhere');
      assert.deepEqual(forDev.access!.find((a) => a.name === 'dev/app')!.actions, ['pull', 'usage']);
      const r = await fetch(`${tokenServer.url}/berth/v1/usage`, { headers: bearer(forDev.token!) });
      assert.equal(((await r.json()) as Usage).storedBytes, undefined);
    } finally {
      await tokenServer.stop();
    }
  });

  test('a cross-repository mount into a namespace over its quota is refused like an upload', async () => {
    const big = blob(Buffer.alloc(4000, 7));
    const r = await fetch(`${server.url}/v2/public/big/blobs/uploads/?digest=${big.digest}`, {
      method: 'POST',
      body: big.bytes as unknown as BodyInit,
      headers: { ...ops, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(r.status, 201);
    const mount = await fetch(`${server.url}/v2/full/app/blobs/uploads/?mount=${big.digest}&from=public/big`, { method: 'POST', headers: ops });
    assert.equal(mount.status, 403);
    assert.match(((await mount.json()) as { errors: { message: string }[] }).errors[0]!.message, /quota exceeded: namespace "full"/);
    const head = await fetch(`${server.url}/v2/full/app/blobs/${big.digest}`, { method: 'HEAD', headers: ops });
    assert.equal(head.status, 404, 'nothing was linked');
    assert.deepEqual(await pushImage(server.url, 'full/app', 'small', ops, smallImage('fits')), [201, 201, 201], 'the namespace still takes what fits');
  });
});
