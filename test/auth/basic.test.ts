import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { missingTools, Tools, umociImage } from '../helpers/tools.js';
import { basic, htpasswdFile, pushImage, refusal, smallImage } from './helpers.js';

const PASSWORDS = { alice: 'alice-Basic-1', bob: 'bob-Basic-2', mallory: 'mallory-Basic-3' };
const skip = missingTools('skopeo', 'umoci', 'docker', 'htpasswd');

describe('Basic mode: htpasswd (htpasswd -B) and ordered rules', { skip }, () => {
  let server: BerthServer;
  let dir: string;
  let htpasswd: string;
  let tools: Tools;
  let layout: string;
  const alice = basic('alice', PASSWORDS.alice);
  const bob = basic('bob', PASSWORDS.bob);

  before(async () => {
    dir = tempDir('berth-auth-basic-');
    htpasswd = htpasswdFile(dir, PASSWORDS);
    server = await startBerth({
      config: `auth:
  htpasswd: ${htpasswd}
  loginLimit: { perUserAddress: 2, perAddress: 1000, window: 10m }
  auditLog: ${dir}/audit.log
access:
  - { repos: "alice/**", users: [alice], actions: ["*"] }
  - { repos: "secret/**", users: [bob], actions: [] }
  - { repos: "**", users: [bob], actions: [pull, push] }
`,
    });
    tools = new Tools();
    layout = join(dir, 'layout');
    await umociImage(layout, 'v1', { 'etc/motd': 'basic mode\n' });
  });
  after(() => server?.stop());

  test('Basic challenge; a wrong password is 401, the right one 200', async () => {
    const anon = await fetch(`${server.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="berth",charset="UTF-8"');
    assert.equal((await fetch(`${server.url}/v2/`, { headers: basic('alice', 'nope') })).status, 401);
    assert.equal((await fetch(`${server.url}/v2/`, { headers: alice })).status, 200);
  });

  test('docker login (client-side) against Basic mode', async () => {
    const env = { DOCKER_CONFIG: tempDir('berth-docker-') };
    const ok = await tools.run('docker', ['login', server.host, '-u', 'alice', '--password-stdin'], { env, input: PASSWORDS.alice });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const bad = await tools.run('docker', ['login', server.host, '-u', 'alice', '--password-stdin'], { env: { DOCKER_CONFIG: tempDir('berth-docker-') }, input: 'nope' });
    assert.notEqual(bad.code, 0);
  });

  test('skopeo pushes where the rules allow; a logged-in user without a rule gets 403 DENIED; an earlier rule narrows a later one', async () => {
    await tools.skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORDS.alice}`, `oci:${layout}:v1`, `docker://${server.host}/alice/app:v1`);
    await tools.skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', `bob:${PASSWORDS.bob}`, `oci:${layout}:v1`, `docker://${server.host}/bob/app:v1`);
    const refused = await tools.run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `bob:${PASSWORDS.bob}`, `oci:${layout}:v1`, `docker://${server.host}/secret/app:v1`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied|403/i);

    const image = smallImage('basic');
    for (const [who, repo] of [[bob, 'secret/app'], [alice, 'bob/app']] as const) {
      const r = await refusal(await fetch(`${server.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: who }));
      assert.equal(r.status, 403);
      assert.equal(r.code, 'DENIED');
      assert.deepEqual(await pushImage(server.url, repo, 'evil', who, image), [403, 403, 403]);
    }
    assert.deepEqual(await pushImage(server.url, 'bob/app', 'evil', {}, image), [401, 401, 401]);
    const list = async (repo: string) => ((await (await fetch(`${server.url}/v2/${repo}/tags/list`, { headers: alice })).json()) as { tags?: string[] }).tags;
    assert.deepEqual(await list('alice/app'), ['v1']);
    const bobTags = await fetch(`${server.url}/v2/bob/app/tags/list`, { headers: bob });
    assert.deepEqual(((await bobTags.json()) as { tags: string[] }).tags, ['v1']);
    assert.equal((await fetch(`${server.url}/v2/secret/app/tags/list`, { headers: bob })).status, 403);
  });

  test('delete needs delete; the catalog shows only what the caller may pull', async () => {
    const del = await refusal(await fetch(`${server.url}/v2/bob/app/manifests/v1`, { method: 'DELETE', headers: bob }));
    assert.equal(del.status, 403);
    assert.equal((await fetch(`${server.url}/v2/bob/app/manifests/v1`, { method: 'HEAD', headers: bob })).status, 200);
    const catalog = async (headers: Record<string, string>) => {
      const r = await fetch(`${server.url}/v2/_catalog`, { headers });
      return r.status === 200 ? ((await r.json()) as { repositories: string[] }).repositories : r.status;
    };
    assert.equal(await catalog({}), 401);
    assert.deepEqual(await catalog(alice), ['alice/app']);
    assert.deepEqual(await catalog(bob), ['alice/app', 'bob/app']);
    assert.deepEqual(await catalog(basic('mallory', PASSWORDS.mallory)), []);
  });

  test('berth user add/list/del change who may log in on the running server', async () => {
    const file = ['--file', htpasswd];
    const add = await berth(['user', 'add', 'erin', '--password-stdin', ...file], {}, { input: 'erin-Secret\n' });
    assert.equal(add.code, 0, add.stderr);
    assert.match(readFileSync(htpasswd, 'utf8'), /^erin:\$2y\$10\$/m);
    const list = await berth(['user', 'list', '--json', ...file], {});
    assert.deepEqual(JSON.parse(list.stdout), ['alice', 'bob', 'mallory', 'erin']);
    // Debian's htpasswd reads what berth wrote.
    execFileSync('htpasswd', ['-vb', htpasswd, 'erin', 'erin-Secret'], { stdio: 'ignore' });
    assert.equal((await fetch(`${server.url}/v2/`, { headers: basic('erin', 'erin-Secret') })).status, 200);
    assert.equal((await berth(['user', 'del', 'erin', ...file], {})).code, 0);
    assert.equal((await fetch(`${server.url}/v2/`, { headers: basic('erin', 'erin-Secret') })).status, 401);
    const missing = await berth(['user', 'del', 'erin', ...file], {});
    assert.equal(missing.code, 3, "not found, per the exit-code table");
    assert.match(missing.stderr, /no user "erin"/);
  });

  test('brute force in Basic mode: 429 TOOMANYREQUESTS with Retry-After', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${server.url}/v2/`, { headers: basic('mallory', `guess${i}`) })).status, 401);
    const r = await fetch(`${server.url}/v2/`, { headers: basic('mallory', PASSWORDS.mallory) });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal((await refusal(r)).code, 'TOOMANYREQUESTS');
    assert.equal((await fetch(`${server.url}/v2/`, { headers: alice })).status, 200);
  });

  test('the audit file has one line per login, push, delete and refusal, and no secrets', async () => {
    const digest = (await fetch(`${server.url}/v2/alice/app/manifests/v1`, { method: 'HEAD', headers: alice })).headers.get('docker-content-digest')!;
    assert.equal((await fetch(`${server.url}/v2/alice/app/manifests/${digest}`, { method: 'DELETE', headers: alice })).status, 202);
    const file = join(dir, 'audit.log');
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && !lines.some((l) => l.event === 'delete'); i++) {
      await sleep(50);
      lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    }
    assert.ok(lines.some((l) => l.event === 'login' && l.who === 'alice' && l.result === 'ok'));
    assert.ok(lines.some((l) => l.event === 'push' && l.who === 'bob' && l.repository === 'bob/app' && l.result === 'ok'));
    assert.ok(lines.some((l) => l.event === 'delete' && l.who === 'alice' && l.repository === 'alice/app' && l.digest === digest));
    assert.ok(lines.some((l) => l.event === 'denied' && l.who === 'bob' && l.repository === 'secret/app' && l.status === 403));
    assert.ok(lines.some((l) => l.event === 'login' && l.who === 'mallory' && l.result === 'limited'));
    const text = readFileSync(file, 'utf8') + server.logs.map((l) => JSON.stringify(l)).join('\n');
    for (const p of [...Object.values(PASSWORDS), 'erin-Secret']) assert.ok(!text.includes(p));
    assert.ok(!text.includes(alice.Authorization!.slice(6)));
  });
});

describe('htpasswd hash types', { skip: missingTools('htpasswd') }, () => {
  for (const [flag, kind] of [['-m', 'MD5'], ['-s', 'SHA1']] as const) {
    test(`a ${kind} entry stops berth serve at start, naming the file and line`, async () => {
      const dir = tempDir('berth-auth-hash-');
      const file = htpasswdFile(dir, { alice: 'pw-alice' });
      const line = execFileSync('htpasswd', [flag, '-bn', 'bob', 'pw-bob'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      appendFileSync(file, `${line}\n`);
      await assert.rejects(startBerth({ config: `auth:\n  htpasswd: ${file}\n` }), (e: Error) => {
        assert.match(e.message, new RegExp(`${file} line 2: user "bob" has a ${kind}`));
        assert.match(e.message, /only bcrypt/);
        assert.ok(!e.message.includes(line.split(':')[1]!), 'the hash is not printed');
        return true;
      });
    });
  }
});
