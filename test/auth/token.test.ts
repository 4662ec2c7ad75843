import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { missingTools, Tools, umociImage } from '../helpers/tools.js';
import { bearer, claims, getToken, htpasswdFile, pushImage, refusal, smallImage } from './helpers.js';

/** The config of the README's "Secure your registry", with a low per-user login limit for the brute-force case. */
const PASSWORDS = { alice: 'alice-Secret-1', bob: 'bob-Secret-2', 'robot-ci': 'robot-Secret-3', carol: 'carol-Secret-4', dave: 'dave-Secret-5' };
const skip = missingTools('skopeo', 'podman', 'umoci', 'docker', 'htpasswd', 'openssl');

describe('token mode: the built-in Docker token service and the access policy', { skip }, () => {
  let server: BerthServer;
  let dir: string;
  let key: KeyObject;
  let kid: string;
  let tools: Tools;
  let layout: string;
  const tokens: string[] = [];

  async function tokenFor(user: keyof typeof PASSWORDS | null, scopes: string[], offline = false): Promise<string> {
    const r = await getToken(server.url, user ? { user, password: PASSWORDS[user], scopes, offline } : { scopes });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    tokens.push(r.token!);
    if (r.refresh_token) tokens.push(r.refresh_token);
    return r.token!;
  }

  /** Signs claims with the server's own key: a token only the claims can make invalid. */
  function forge(overrides: Record<string, unknown>, header: Record<string, unknown> = {}, signer: KeyObject = key): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: 'berth', sub: 'alice', aud: 'berth', iat: now, nbf: now, exp: now + 300, jti: randomUUID(), access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] }], ...overrides };
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT', ...header }).sign(signer);
  }

  async function tags(repo: string): Promise<string[]> {
    const t = await tokenFor('robot-ci', [`repository:${repo}:pull`]);
    const r = await fetch(`${server.url}/v2/${repo}/tags/list`, { headers: bearer(t) });
    if (r.status === 404) return [];
    assert.equal(r.status, 200);
    return ((await r.json()) as { tags: string[] }).tags;
  }

  before(async () => {
    dir = tempDir('berth-auth-token-');
    const htpasswd = htpasswdFile(dir, PASSWORDS);
    server = await startBerth({
      config: `auth:
  htpasswd: ${htpasswd}
  token: { issuer: berth, expiry: 5m }
  groups: { ci: [robot-ci, bob] }
  loginLimit: { perUserAddress: 3, perAddress: 1000, window: 10m }
access:
  - { repos: "alice/**",  users: [alice], actions: [pull, push, delete] }
  - { repos: "public/**", anonymous: true, actions: [pull] }
  - { repos: "**",        groups: [ci],    actions: [pull, push] }
`,
    });
    key = createPrivateKey(readFileSync(join(server.dataDir, 'auth', 'token-key.pem')));
    kid = (await forgeKid()) as string;
    tools = new Tools();
    layout = join(dir, 'layout');
    await umociImage(layout, 'v1', { 'etc/motd': 'hello from an authenticated push\n' });
  });
  after(() => server?.stop());

  async function forgeKid(): Promise<unknown> {
    const t = await tokenFor(null, []);
    return JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
  }

  test('an unauthenticated request gets a Bearer challenge naming the realm, service and scope', async () => {
    const base = await fetch(`${server.url}/v2/`);
    assert.equal(base.status, 401);
    assert.equal(base.headers.get('www-authenticate'), `Bearer realm="${server.url}/auth/token",service="berth"`);
    const pull = await fetch(`${server.url}/v2/alice/app/manifests/v1`);
    assert.equal(pull.status, 401);
    assert.equal(pull.headers.get('www-authenticate'), `Bearer realm="${server.url}/auth/token",service="berth",scope="repository:alice/app:pull"`);
  });

  test('tokens are ES256 JWTs with kid, iss, sub, aud, exp, nbf, iat, jti and the granted access only', async () => {
    const t = await tokenFor('alice', ['repository:alice/app:pull,push', 'repository:bob/app:push', 'registry:catalog:*']);
    const header = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, kid);
    const c = claims(t);
    for (const k of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) assert.ok(c[k] !== undefined, `claim ${k}`);
    assert.equal(c.sub, 'alice');
    assert.deepEqual(c.access, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  test('docker login (client-side, no engine) stores an identity token; a wrong password is refused', async () => {
    const env = { DOCKER_CONFIG: tempDir('berth-docker-') };
    const ok = await tools.run('docker', ['login', server.host, '-u', 'alice', '--password-stdin'], { env, input: PASSWORDS.alice });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    // It tried HTTPS first and fell back to plain HTTP on loopback.
    assert.match(ok.stderr, /server gave HTTP response to HTTPS client/);
    const saved = JSON.parse(readFileSync(join(env.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string; identitytoken?: string }> };
    const entry = saved.auths[server.host]!;
    assert.ok(entry.identitytoken, 'the token service handed docker a refresh token');
    assert.equal(Buffer.from(entry.auth, 'base64').toString(), 'alice:', 'the password is not stored');
    tokens.push(entry.identitytoken);
    // The identity token is good for an access token by the OAuth2 refresh grant.
    const refreshed = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: entry.identitytoken, service: 'berth', scope: 'repository:alice/app:pull' }),
    });
    assert.equal(refreshed.status, 200);
    assert.deepEqual(claims(((await refreshed.json()) as { access_token: string }).access_token).access, [{ type: 'repository', name: 'alice/app', actions: ['pull'] }]);

    const bad = await tools.run('docker', ['login', server.host, '-u', 'alice', '--password-stdin'], { env: { DOCKER_CONFIG: tempDir('berth-docker-') }, input: 'wrong' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unauthorized|incorrect username or password/i);
  });

  test('skopeo copy --creds and skopeo login: allowed and refused as the policy says', async () => {
    await tools.skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORDS.alice}`, `oci:${layout}:v1`, `docker://${server.host}/alice/app:v1`);
    assert.deepEqual(await tags('alice/app'), ['v1']);
    // alice has no rule for bob/**.
    const refused = await tools.run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORDS.alice}`, `oci:${layout}:v1`, `docker://${server.host}/bob/app:v1`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied|unauthorized/i);
    assert.deepEqual(await tags('bob/app'), []);

    // bob is in group ci: pull and push everywhere, through the auth file skopeo login writes.
    await tools.skopeo('login', '--tls-verify=false', '-u', 'bob', '-p', PASSWORDS.bob, server.host);
    await tools.skopeo('copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${server.host}/alice/app:v1`, `docker://${server.host}/public/app:v1`);
    assert.deepEqual(await tags('public/app'), ['v1']);
    await tools.skopeo('logout', server.host);
    // Anonymous: public pulls work, nothing else does.
    await tools.skopeo('inspect', '--raw', '--tls-verify=false', `docker://${server.host}/public/app:v1`);
    const hidden = await tools.run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/alice/app:v1`]);
    assert.notEqual(hidden.code, 0);
  });

  test('podman login, push and pull: allowed and refused as the policy says', async () => {
    const podman = (args: string[], input?: string) => tools.run('podman', [...tools.storageFlags('podman'), ...args], { input });
    const must = async (args: string[], input?: string) => {
      const r = await podman(args, input);
      assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    };
    await must(['login', '--tls-verify=false', '-u', 'robot-ci', '--password-stdin', server.host], PASSWORDS['robot-ci']);
    await must(['pull', '-q', '--tls-verify=false', `${server.host}/alice/app:v1`]);
    await must(['tag', `${server.host}/alice/app:v1`, `${server.host}/ci/app:v1`, `${server.host}/ci/other:v1`]);
    await must(['push', '-q', '--tls-verify=false', `${server.host}/ci/app:v1`]);
    assert.deepEqual(await tags('ci/app'), ['v1']);
    await must(['logout', server.host]);

    await must(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', server.host], PASSWORDS.alice);
    const refused = await podman(['push', '-q', '--tls-verify=false', `${server.host}/ci/other:v1`]);
    assert.notEqual(refused.code, 0, 'alice may not push to ci/**');
    assert.match(refused.stderr, /denied|unauthorized/i);
    assert.deepEqual(await tags('ci/other'), []);
    await must(['pull', '-q', '--tls-verify=false', `${server.host}/public/app:v1`]);
    await must(['logout', server.host]);
  });

  test('berth login then berth commands use the token service', async () => {
    const env = { DOCKER_CONFIG: tempDir('berth-docker-'), BERTH_HOME: tempDir('berth-home-') };
    const ok = await berth(['login', server.host, '-u', 'alice', '--password-stdin'], env, { input: PASSWORDS.alice });
    assert.equal(ok.code, 0, ok.stderr);
    const listed = await berth(['tags', `${server.host}/alice/app`], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /v1/);
    const refused = await berth(['tags', `${server.host}/bob/app`], env);
    assert.notEqual(refused.code, 0);
    const bad = await berth(['login', server.host, '-u', 'alice', '--password-stdin'], { DOCKER_CONFIG: tempDir('berth-docker-') }, { input: 'wrong' });
    assert.notEqual(bad.code, 0);
    assert.ok(!(ok.stdout + ok.stderr + listed.stdout + listed.stderr).includes(PASSWORDS.alice));
  });

  const hasBlob = async (repo: string, digest: string): Promise<boolean> => {
    const t = await tokenFor('robot-ci', [`repository:${repo}:pull`]);
    const r = await fetch(`${server.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers: bearer(t) });
    return r.status === 200;
  };

  test('attack: a pull-only token cannot push, and a token for one repository does not open another', async () => {
    const pullOnly = await tokenFor('alice', ['repository:alice/app:pull']);
    const image = smallImage('attack-1');
    assert.deepEqual(await pushImage(server.url, 'alice/app', 'evil', bearer(pullOnly), image), [401, 401, 401]);
    const r = await refusal(await fetch(`${server.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: bearer(pullOnly) }));
    assert.equal(r.status, 401);
    assert.equal(r.code, 'UNAUTHORIZED');
    assert.match(r.challenge!, /scope="repository:alice\/app:pull,push",error="insufficient_scope"$/);

    const forApp = await tokenFor('alice', ['repository:alice/app:pull,push,delete']);
    assert.deepEqual(await pushImage(server.url, 'alice/other', 'v1', bearer(forApp), image), [401, 401, 401]);
    assert.equal((await fetch(`${server.url}/v2/alice/other/tags/list`, { headers: bearer(forApp) })).status, 401);
    assert.deepEqual(await tags('alice/app'), ['v1']);
    assert.deepEqual(await tags('alice/other'), []);
    for (const b of image.blobs) assert.equal(await hasBlob('alice/app', b.digest), false);
  });

  test('attack: expired, not-yet-valid, wrong-audience, wrong-issuer, unsigned, tampered and embedded-key tokens are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    // The control: the server's key with these claims makes a token that works.
    assert.equal((await fetch(`${server.url}/v2/alice/app/tags/list`, { headers: bearer(await forge({})) })).status, 200);

    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certDir = tempDir('berth-x5c-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'k.pem'), '-out', join(certDir, 'c.pem'), '-subj', '/CN=berth', '-days', '1'], { stdio: 'ignore' });
    const certDer = readFileSync(join(certDir, 'c.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
    const certKey = createPrivateKey(readFileSync(join(certDir, 'k.pem')));
    const pullOnly = await tokenFor('alice', ['repository:alice/app:pull']);
    const [h, , sig] = pullOnly.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims(pullOnly), access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const refresh = (await getToken(server.url, { user: 'alice', password: PASSWORDS.alice, offline: true })).refresh_token!;
    tokens.push(refresh);

    const cases: [string, string, RegExp][] = [
      ['expired', await forge({ exp: now - 3600, iat: now - 7200, nbf: now - 7200 }), /expired/],
      ['not yet valid', await forge({ nbf: now + 3600 }), /not valid yet/],
      ['wrong audience', await forge({ aud: 'another-registry' }), /wrong aud/],
      ['wrong issuer', await forge({ iss: 'someone-else' }), /untrusted issuer/],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(await forge({})))}.`, /algorithm not allowed|malformed/],
      ['tampered', `${h}.${widened}.${sig}`, /bad signature/],
      ['embedded jwk with the right kid', await forge({}, { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey), /bad signature/],
      ['self-made x5c chain', await forge({}, { x5c: [certDer] }, certKey), /bad signature/],
      ['refresh token used as an access token', refresh, /wrong aud/],
    ];
    for (const [name, token, why] of cases) {
      const r = await refusal(await fetch(`${server.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: bearer(token) }));
      assert.equal(r.status, 401, name);
      assert.equal(r.code, 'UNAUTHORIZED', name);
      assert.match(r.challenge!, /error="invalid_token"/, name);
      const body = await (await fetch(`${server.url}/v2/alice/app/manifests/v1`, { method: 'DELETE', headers: bearer(token) })).json();
      assert.match(JSON.stringify(body), why, name);
    }
    assert.deepEqual(await tags('alice/app'), ['v1'], 'the delete attempts changed nothing');
  });

  test('attack: repeated scope params never widen a grant; delete needs delete', async () => {
    const anon = await getToken(server.url, { scopes: ['repository:public/app:pull', 'repository:public/app:push', 'repository:public/app:*', 'repository:public/app:pull,push,delete'] });
    assert.deepEqual(anon.access, [{ type: 'repository', name: 'public/app', actions: ['pull'] }]);
    const bob = await getToken(server.url, { user: 'bob', password: PASSWORDS.bob, scopes: ['repository:ci/app:pull', 'repository:ci/app:delete', 'repository:ci/app:*'] });
    tokens.push(anon.token!, bob.token!);
    assert.deepEqual(bob.access, [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }]);
    const del = await refusal(await fetch(`${server.url}/v2/ci/app/manifests/v1`, { method: 'DELETE', headers: bearer(bob.token!) }));
    assert.equal(del.status, 401);
    assert.match(del.challenge!, /scope="repository:ci\/app:delete",error="insufficient_scope"/);
    assert.deepEqual(await tags('ci/app'), ['v1']);
  });

  test('attack: anonymous push is refused, with or without an anonymous token', async () => {
    const image = smallImage('anonymous');
    assert.deepEqual(await pushImage(server.url, 'public/app', 'evil', {}, image), [401, 401, 401]);
    const anon = await tokenFor(null, ['repository:public/app:pull,push']);
    assert.deepEqual(await pushImage(server.url, 'public/app', 'evil', bearer(anon), image), [401, 401, 401]);
    assert.deepEqual(await tags('public/app'), ['v1']);
    for (const b of image.blobs) assert.equal(await hasBlob('public/app', b.digest), false);
  });

  test('attack: a blob in a repository the caller may not pull cannot be mounted into one they may push to', async () => {
    const secret = smallImage('ci-secret');
    const ci = await tokenFor('robot-ci', ['repository:ci/secret:pull,push']);
    assert.deepEqual(await pushImage(server.url, 'ci/secret', 'v1', bearer(ci), secret), [201, 201, 201]);
    const layer = secret.blobs[1]!.digest;
    const t = await tokenFor('alice', ['repository:alice/loot:pull,push', 'repository:ci/secret:pull']);
    assert.deepEqual(claims(t).access, [{ type: 'repository', name: 'alice/loot', actions: ['pull', 'push'] }]);
    for (const q of [`mount=${layer}&from=ci/secret`, `mount=${layer}`]) {
      const r = await fetch(`${server.url}/v2/alice/loot/blobs/uploads/?${q}`, { method: 'POST', headers: bearer(t) });
      await r.arrayBuffer();
      assert.equal(r.status, 202, `${q}: an upload session, not a mount`);
    }
    assert.equal(await hasBlob('alice/loot', layer), false);
  });

  test('attack: path tricks in scope names are refused, not granted', async () => {
    for (const scope of ['repository:../x:push', 'repository:alice/../bob/app:push', 'repository:alice/app/..:pull', 'repository:/etc/passwd:pull', 'repository:alice/app%2f..:pull']) {
      const r = await getToken(server.url, { user: 'alice', password: PASSWORDS.alice, scopes: [scope] });
      assert.equal(r.status, 400, scope);
      assert.equal((r.body.errors as { code: string }[])[0]!.code, 'NAME_INVALID', scope);
    }
  });

  test('catalog: needs registry:catalog:* and lists only repositories the caller may pull', async () => {
    const anon = await tokenFor(null, ['registry:catalog:*']);
    assert.deepEqual(claims(anon).access, []);
    assert.equal((await fetch(`${server.url}/v2/_catalog`, { headers: bearer(anon) })).status, 401);
    const list = async (user: 'alice' | 'bob') => {
      const r = await fetch(`${server.url}/v2/_catalog`, { headers: bearer(await tokenFor(user, ['registry:catalog:*'])) });
      assert.equal(r.status, 200);
      return ((await r.json()) as { repositories: string[] }).repositories;
    };
    assert.deepEqual(await list('alice'), ['alice/app', 'public/app']);
    assert.deepEqual(await list('bob'), ['alice/app', 'ci/app', 'ci/secret', 'public/app']);
  });

  test('brute force: failed logins hit the limit: 429 TOOMANYREQUESTS with Retry-After, even with the right password then', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await getToken(server.url, { user: 'carol', password: `guess-${i}` })).status, 401);
    const limited = await getToken(server.url, { user: 'carol', password: 'guess-4' });
    assert.equal(limited.status, 429);
    assert.equal((limited.body.errors as { code: string }[])[0]!.code, 'TOOMANYREQUESTS');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await getToken(server.url, { user: 'carol', password: PASSWORDS.carol })).status, 429);
    const form = new URLSearchParams({ grant_type: 'password', username: 'carol', password: PASSWORDS.carol, service: 'berth' });
    const post = await fetch(`${server.url}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
    assert.equal(post.status, 429);
    // Other users are not locked out by carol's attacker.
    assert.equal((await getToken(server.url, { user: 'alice', password: PASSWORDS.alice })).status, 200);
  });

  test('berth user del revokes the refresh tokens of a running server at once', async () => {
    const r = await getToken(server.url, { user: 'dave', password: PASSWORDS.dave, offline: true });
    tokens.push(r.refresh_token!);
    const refresh = () =>
      fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r.refresh_token!, service: 'berth' }),
      });
    assert.equal((await refresh()).status, 200);
    const del = await berth(['user', 'del', 'dave', '--file', join(dir, 'htpasswd')], {});
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await refresh()).status, 401);
    assert.equal((await getToken(server.url, { user: 'dave', password: PASSWORDS.dave })).status, 401);
  });

  test('the audit log has logins, pushes and denials; no password or token is ever logged', async () => {
    const audit = server.logs.filter((l) => l.audit === true);
    assert.ok(audit.some((l) => l.event === 'push' && l.who === 'alice' && l.repository === 'alice/app' && l.reference === 'v1' && String(l.digest).startsWith('sha256:') && l.result === 'ok'));
    assert.ok(audit.some((l) => l.event === 'login' && l.who === 'alice' && l.result === 'ok'));
    assert.ok(audit.some((l) => l.event === 'login' && l.who === 'carol' && l.result === 'failed'));
    assert.ok(audit.some((l) => l.event === 'login' && l.who === 'carol' && l.result === 'limited'));
    assert.ok(audit.some((l) => l.event === 'denied' && l.who === 'alice' && l.repository === 'alice/other'));
    assert.ok(audit.some((l) => l.event === 'denied' && l.repository === 'alice/app' && l.reason === 'token expired'));
    const text = server.logs.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [...Object.values(PASSWORDS), ...tokens]) assert.ok(!text.includes(secret), 'a secret reached the log');
    assert.ok(tokens.length > 10);
  });
});

