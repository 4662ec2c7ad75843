import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { htpasswdFile } from '../auth/helpers.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';

const PASSWORD = 'ci-Secret-Bearer-1';
let server: BerthServer;
let src: string;
let image: BuiltImage;
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

before(async () => {
  const dir = tempDir('berth-bearer-');
  server = await startBerth({
    config: `auth:
  htpasswd: ${htpasswdFile(dir, { ci: PASSWORD, reader: PASSWORD })}
  token: { issuer: berth, expiry: 5m }
access:
  - { repos: "**", users: [ci], actions: [pull, push, delete] }
  - { repos: "**", users: [reader], actions: [pull] }
`,
  });
  src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'app', [{ 'etc/x': 'bearer\n' }, { 'bin/y': Buffer.alloc(10_000, 5) }]);
});
after(() => server.stop());

describe('Bearer token flow against berth serve (Docker token spec)', () => {
  test('login keeps an identity token, not the password; push, cross-repo mount and pull run on OAuth2 refresh grants', async () => {
    const dc = tempDir('docker-config-');
    const env = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: dc };
    const login = await berth(['login', server.host, '-u', 'ci', '--password-stdin'], env, { input: PASSWORD });
    ok(login);
    const file = join(dc, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(Buffer.from(`ci:${PASSWORD}`).toString('base64')), 'the password is not stored');
    const entry = (JSON.parse(text) as { auths: Record<string, { identitytoken?: string }> }).auths[server.host]!;
    assert.ok(entry.identitytoken, 'an identity (refresh) token is stored');
    assert.ok(!(login.stdout + login.stderr).includes(entry.identitytoken!));

    ok(await berth(['copy', `oci:${src}:app`, `local:${server.host}/a/app:v1`], env));
    ok(await berth(['push', `${server.host}/a/app:v1`], env));
    ok(await berth(['tag', `${server.host}/a/app:v1`, `${server.host}/b/app:v1`], env));
    const push = await berth(['push', `${server.host}/b/app:v1`], env);
    ok(push);
    assert.match(push.stdout, /Mounted from another repository/, 'one token carried repository:b:push,pull and repository:a:pull');

    const pull = await berth(['pull', '--json', `${server.host}/b/app:v1`], { ...env, BERTH_HOME: tempDir('berth-home-') });
    ok(pull);
    assert.equal((JSON.parse(pull.stdout) as { digest: string }).digest, image.manifestDigest);

    const tokenCalls = server.logs.filter((l) => String(l.path).startsWith('/auth/token'));
    assert.ok(tokenCalls.some((l) => l.method === 'POST' && l.status === 200), 'refresh grants were POSTed');
    for (const l of server.logs) assert.ok(!JSON.stringify(l).includes(entry.identitytoken!), 'the server log holds no refresh token');
  });

  test('anonymous: a token is fetched without credentials and refused access ends in exit 4', async () => {
    const env = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir() };
    const pull = await berth(['pull', `${server.host}/a/app:v1`], env);
    assert.equal(pull.code, 4, pull.stderr);
    assert.match(pull.stderr, new RegExp(`not logged in, and anonymous access is not allowed \\(repository:a/app:pull\\); log in with \`berth login ${server.host}\``));
    assert.doesNotMatch(pull.stderr, /logged in as/);
  });

  test('signed in but not allowed: the error says access denied, not "log in"', async () => {
    const env = { BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir() };
    ok(await berth(['login', server.host, '-u', 'reader', '--password-stdin'], env, { input: PASSWORD }));
    ok(await berth(['copy', `oci:${src}:app`, `local:${server.host}/r/app:v1`], env));
    const push = await berth(['push', `${server.host}/r/app:v1`], env);
    assert.equal(push.code, 4, push.stderr);
    assert.match(push.stderr, /access denied \(repository:r\/app:[a-z,]*push[a-z,]*\)/);
    assert.doesNotMatch(push.stderr, /credentials rejected/);
    // Nothing landed: ci, who may pull everything, finds no such repository.
    const challenge = (await fetch(`${server.url}/v2/r/app/tags/list`)).headers.get('www-authenticate')!;
    const [, realm, service] = /realm="([^"]+)",service="([^"]+)"/.exec(challenge)!;
    const basic = `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}`;
    const tokenRes = await fetch(`${realm}?service=${encodeURIComponent(service!)}&scope=repository:r/app:pull`, { headers: { authorization: basic } });
    const { token } = (await tokenRes.json()) as { token: string };
    const tags = await fetch(`${server.url}/v2/r/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(tags.status, 404);
  });
});
