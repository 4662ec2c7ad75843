import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';

const ALICE = 'a-Secret-4711';
const BOB = 'b-Secret-0815';
let regA: Distribution;
let regB: Distribution;
let open: Distribution;
let src: string;
let image: BuiltImage;

const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const noSecrets = (r: CliResult) => {
  for (const s of [ALICE, BOB]) assert.ok(!(r.stdout + r.stderr).includes(s), 'a password was printed');
};
const home = () => tempDir('berth-home-');

before(async () => {
  [regA, regB, open] = await Promise.all([startDistribution({ users: { alice: ALICE } }), startDistribution({ users: { bob: BOB } }), startDistribution()]);
  src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'app', [{ 'etc/hello': 'hi\n' }, { 'app/bin': Buffer.alloc(20_000, 3) }]);
});
after(() => Promise.all([regA.stop(), regB.stop(), open.stop()]));

/** Puts the test image into a local store under `ref`. */
async function seed(env: Record<string, string>, ref: string): Promise<void> {
  ok(await berth(['copy', `oci:${src}:app`, `local:${ref}`], env));
}

describe('credentials for many registries (Distribution with htpasswd)', () => {
  test('docker login writes config.json; berth then pushes and pulls to two registries by reference alone', async () => {
    const dockerConfig = tempDir('docker-config-');
    for (const [reg, user, pass] of [[regA, 'alice', ALICE], [regB, 'bob', BOB]] as const) {
      const r = spawnSync('docker', ['login', reg.host, '-u', user, '--password-stdin'], { input: pass, env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const written = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.deepEqual(Object.keys(written.auths).sort(), [regA.host, regB.host].sort());

    const pushEnv = { BERTH_HOME: home(), DOCKER_CONFIG: dockerConfig };
    for (const reg of [regA, regB]) {
      await seed(pushEnv, `${reg.host}/team/app:v1`);
      const push = await berth(['push', `${reg.host}/team/app:v1`], pushEnv);
      ok(push);
      noSecrets(push);
      assert.match(push.stdout, new RegExp(`digest: ${image.manifestDigest}`));
    }
    const pullEnv = { BERTH_HOME: home(), DOCKER_CONFIG: dockerConfig };
    for (const reg of [regA, regB]) {
      const pull = await berth(['pull', '--json', `${reg.host}/team/app:v1`], pullEnv);
      ok(pull);
      noSecrets(pull);
      assert.equal((JSON.parse(pull.stdout) as { digest: string }).digest, image.manifestDigest);
    }
    // Registry to registry, each with its own credentials, streamed without the local store.
    const copy = await berth(['copy', '--json', `${regA.host}/team/app:v1`, `${regB.host}/mirror/app:v1`], pullEnv);
    ok(copy);
    assert.equal((JSON.parse(copy.stdout) as { digest: string }).digest, image.manifestDigest);
    // skopeo, with the same docker config, sees what berth pushed.
    const sk = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${regB.host}/team/app:v1`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig, REGISTRY_AUTH_FILE: join(dockerConfig, 'none.json') }, encoding: 'utf8' })) as { Digest: string };
    assert.equal(sk.Digest, image.manifestDigest);
  });

  test('without credentials: exit 4 and a message that says to log in', async () => {
    const env = { BERTH_HOME: home(), DOCKER_CONFIG: tempDir() };
    await seed(env, `${regA.host}/team/anon:v1`);
    const push = await berth(['push', `${regA.host}/team/anon:v1`], env);
    assert.equal(push.code, 4, push.stderr);
    assert.match(push.stderr, new RegExp(`berth login ${regA.host.replace('.', '\\.')}`));
    const pull = await berth(['pull', `${regA.host}/team/app:v1`], env);
    assert.equal(pull.code, 4, pull.stderr);
  });

  test('berth login: verifies, writes config.json 0600, a wrong password changes nothing, logout removes it', async () => {
    const dc = tempDir('docker-config-');
    const env = { BERTH_HOME: home(), DOCKER_CONFIG: dc };
    const wrong = await berth(['login', regA.host, '-u', 'alice', '--password-stdin'], env, { input: 'not-it\n' });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /rejected the username or password/);
    assert.ok(!existsSync(join(dc, 'config.json')));
    const login = await berth(['login', regA.host, '-u', 'alice', '--password-stdin'], env, { input: `${ALICE}\n` });
    ok(login);
    noSecrets(login);
    assert.match(login.stdout, /Login Succeeded/);
    const file = join(dc, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const config = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[regA.host]!.auth, 'base64').toString(), `alice:${ALICE}`);
    // docker's own client accepts what berth wrote.
    const docker = spawnSync('docker', ['manifest', 'inspect', '--insecure', `${regA.host}/team/app:v1`], { env: { ...process.env, DOCKER_CONFIG: dc }, encoding: 'utf8' });
    assert.equal(docker.status, 0, docker.stderr);
    ok(await berth(['logout', regA.host], env));
    assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as { auths: object }).auths, {});
  });

  test('credsStore: secrets go through docker-credential-<helper> get/store/erase, not into config.json', async () => {
    const dc = tempDir('docker-config-');
    const bin = tempDir('helper-bin-');
    const vault = join(bin, 'vault.json');
    // A credential helper speaking the docker protocol, keeping secrets in its own file.
    writeFileSync(
      join(bin, 'docker-credential-berthtest'),
      `#!/usr/bin/env node
const fs = require('fs'); const vault = ${JSON.stringify(vault)};
const db = fs.existsSync(vault) ? JSON.parse(fs.readFileSync(vault, 'utf8')) : {};
let input = ''; process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const verb = process.argv[2];
  if (verb === 'store') { const c = JSON.parse(input); db[c.ServerURL] = c; fs.writeFileSync(vault, JSON.stringify(db)); }
  else if (verb === 'get') { const c = db[input.trim()]; if (!c) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } process.stdout.write(JSON.stringify(c)); }
  else if (verb === 'erase') { delete db[input.trim()]; fs.writeFileSync(vault, JSON.stringify(db)); }
});
`,
    );
    chmodSync(join(bin, 'docker-credential-berthtest'), 0o755);
    writeFileSync(join(dc, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
    const env = { BERTH_HOME: home(), DOCKER_CONFIG: dc, PATH: `${bin}:${process.env.PATH}` };
    ok(await berth(['login', regB.host, '-u', 'bob', '--password-stdin'], env, { input: BOB }));
    assert.ok(!readFileSync(join(dc, 'config.json'), 'utf8').includes(Buffer.from(`bob:${BOB}`).toString('base64')));
    assert.equal((JSON.parse(readFileSync(vault, 'utf8')) as Record<string, { Secret: string }>)[regB.host]!.Secret, BOB);
    const pull = await berth(['pull', `${regB.host}/team/app:v1`], env);
    ok(pull);
    ok(await berth(['logout', regB.host], env));
    assert.deepEqual(JSON.parse(readFileSync(vault, 'utf8')), {});
  });

  test("podman/skopeo auth.json (REGISTRY_AUTH_FILE) is used when docker's config has nothing", async () => {
    const authFile = join(tempDir(), 'auth.json');
    execFileSync('skopeo', ['login', '--tls-verify=false', '--authfile', authFile, '-u', 'alice', '-p', ALICE, regA.host], { stdio: 'ignore' });
    const env = { BERTH_HOME: home(), DOCKER_CONFIG: tempDir(), REGISTRY_AUTH_FILE: authFile };
    ok(await berth(['pull', `${regA.host}/team/app:v1`], env));
    ok(await berth(['tags', `${regA.host}/team/app`], env));
    // logout removes the login berth was using, wherever it is.
    const logout = await berth(['logout', regA.host], env);
    ok(logout);
    assert.equal(logout.stdout, `Removing login credentials for ${regA.host} from ${authFile}\n`);
    assert.deepEqual((JSON.parse(readFileSync(authFile, 'utf8')) as { auths: object }).auths, {});
    assert.equal((await berth(['tags', `${regA.host}/team/app`], env)).code, 4);
  });

  test('a registry without auth needs no login; skopeo pushes and berth pulls the same digest', async () => {
    const env = { BERTH_HOME: home(), DOCKER_CONFIG: tempDir() };
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${src}:app`, `docker://${open.host}/plain/app:v1`], { stdio: 'ignore' });
    const pull = await berth(['pull', '--json', `${open.host}/plain/app:v1`], env);
    ok(pull);
    assert.equal((JSON.parse(pull.stdout) as { digest: string }).digest, image.manifestDigest);
    ok(await berth(['delete', '--manifest', '--yes', `${open.host}/plain/app:v1`], env));
    assert.equal((await berth(['digest', `docker://${open.host}/plain/app:v1`], env)).code, 3);
  });
});
