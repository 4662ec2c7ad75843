import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { missingTools } from '../helpers/tools.js';
import { bearer, pushImage, refusal, smallImage } from './helpers.js';

/**
 * Berth behind an existing auth server: the test plays that server, signing
 * tokens with a key published as a JWKS file and with a certificate issued by
 * a CA that is in Berth's `certs` bundle.
 */
describe('tokens from an external issuer', { skip: missingTools('openssl') }, () => {
  let server: BerthServer;
  let dir: string;
  let jwksKey: KeyObject;
  let leafKey: KeyObject;
  let leafDer: string;
  const der = (file: string) => readFileSync(join(dir, file), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

  function sign(access: { type: string; name: string; actions: string[] }[], header: Record<string, unknown>, key: KeyObject, alg = 'ES256', overrides: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'corp-auth', aud: 'registry.example.test', sub: 'ci-bot', iat: now, nbf: now, exp: now + 120, jti: randomUUID(), access, ...overrides })
      .setProtectedHeader({ alg, ...header })
      .sign(key);
  }
  const pushApp = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

  before(async () => {
    dir = tempDir('berth-auth-external-');
    jwksKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(createPublicKey(jwksKey))), kid: 'corp-1', alg: 'ES256', use: 'sig' }] }));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=corp auth root', '-days', '2']);
    openssl(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=corp token signer']);
    openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2']);
    openssl(['req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-subj', '/CN=corp token signer', '-days', '2']);
    leafKey = createPrivateKey(readFileSync(join(dir, 'leaf.key')));
    leafDer = der('leaf.crt');
    server = await startBerth({
      config: `auth:
  external:
    realm: https://auth.example.test/token
    service: registry.example.test
    issuer: corp-auth
    jwks: ${join(dir, 'jwks.json')}
    certs: ${join(dir, 'ca.crt')}
    algorithms: [ES256]
`,
    });
  });
  after(() => server?.stop());

  test('the challenge sends clients to the external realm; Berth serves no token endpoint of its own', async () => {
    const r = await fetch(`${server.url}/v2/team/app/tags/list`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:team/app:pull"');
    assert.equal((await fetch(`${server.url}/auth/token`)).status, 404);
  });

  test('a token signed by a JWKS key, or by a certificate chaining to the configured root, is honoured for its scope only', async () => {
    const byJwks = await sign(pushApp, { kid: 'corp-1' }, jwksKey);
    assert.deepEqual(await pushImage(server.url, 'team/app', 'v1', bearer(byJwks)), [201, 201, 201]);
    assert.deepEqual(await pushImage(server.url, 'team/other', 'v1', bearer(byJwks)), [401, 401, 401]);
    const byChain = await sign(pushApp, { x5c: [leafDer] }, leafKey);
    assert.deepEqual(await pushImage(server.url, 'team/app', 'v2', bearer(byChain)), [201, 201, 201]);
    const tags = await fetch(`${server.url}/v2/team/app/tags/list`, { headers: bearer(byChain) });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1', 'v2']);
  });

  test('JWKS from a URL: keys fetched over http from loopback; a plain-http URL elsewhere is refused at start', async () => {
    const jwks = readFileSync(join(dir, 'jwks.json'));
    let fetched = 0;
    const keys = createServer((_req, res) => {
      fetched++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((r) => keys.listen(0, '127.0.0.1', r));
    const config = (jwksUrl: string) =>
      `auth:\n  external:\n    realm: https://auth.example.test/token\n    service: registry.example.test\n    issuer: corp-auth\n    jwks: ${jwksUrl}\n    algorithms: [ES256]\n`;
    const remote = await startBerth({ config: config(`http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks.json`) });
    try {
      const token = await sign(pushApp, { kid: 'corp-1' }, jwksKey);
      assert.deepEqual(await pushImage(remote.url, 'team/app', 'v1', bearer(token)), [201, 201, 201]);
      assert.ok(fetched >= 1, 'the key set came from the URL');
      const rogue = await sign(pushApp, { kid: 'corp-1' }, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
      assert.deepEqual(await pushImage(remote.url, 'team/app', 'v2', bearer(rogue)), [401, 401, 401]);
    } finally {
      await remote.stop();
      keys.close();
    }
    await assert.rejects(startBerth({ config: config('http://keys.example.test/jwks.json') }), /jwks: fetch keys over https/);
  });

  test('attack: keys the token brings itself are not trusted', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rogueKey = createPrivateKey(readFileSync(join(dir, 'rogue.key')));
    const cases: [string, Promise<string>][] = [
      ['embedded jwk with the configured kid', sign(pushApp, { kid: 'corp-1', jwk: await exportJWK(createPublicKey(attacker)) }, attacker)],
      ['self-signed x5c with the same subject', sign(pushApp, { x5c: [der('rogue.crt')] }, rogueKey)],
      ['the root itself followed by a rogue leaf', sign(pushApp, { x5c: [der('rogue.crt'), der('ca.crt')] }, rogueKey)],
      ['unknown kid', sign(pushApp, { kid: 'corp-2' }, attacker)],
      ['right key, wrong audience', sign(pushApp, { kid: 'corp-1' }, jwksKey, 'ES256', { aud: 'other-registry' })],
      ['HS256 with the public JWK as secret', new SignJWT({ iss: 'corp-auth', aud: 'registry.example.test', exp: Math.floor(Date.now() / 1000) + 60, access: pushApp }).setProtectedHeader({ alg: 'HS256', kid: 'corp-1' }).sign(Buffer.from(JSON.stringify(await exportJWK(createPublicKey(jwksKey)))))],
    ];
    for (const [name, token] of cases) {
      const image = smallImage(name);
      const r = await refusal(await fetch(`${server.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: bearer(await token) }));
      assert.equal(r.status, 401, name);
      assert.match(r.challenge!, /error="invalid_token"/, name);
      assert.deepEqual(await pushImage(server.url, 'team/app', 'evil', bearer(await token), image), [401, 401, 401], name);
    }
    const check = await sign(pushApp, { kid: 'corp-1' }, jwksKey);
    const tags = await fetch(`${server.url}/v2/team/app/tags/list`, { headers: bearer(check) });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1', 'v2']);
  });
});
