import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { berthEnv, output } from '../helpers/signing.js';
import { missingTools } from '../helpers/tools.js';
import { basic, htpasswdFile } from '../auth/helpers.js';
import { dockerLogin } from '../helpers/replication.js';

const PASSWORDS = { ops: 'ops-Password-1', dev: 'dev-Password-2' };
const TARGET_PASSWORD = 'target-Secret-9';

describe('replication status: operators only, never a credential', { skip: missingTools('htpasswd') }, () => {
  let server: BerthServer;

  before(async () => {
    const dir = tempDir('berth-repl-status-');
    server = await startBerth({
      config: `auth:
  htpasswd: ${htpasswdFile(dir, PASSWORDS)}
access:
  - { repos: "**", users: [ops], actions: ["*"] }
  - { repos: "team/**", users: [dev], actions: [pull, push] }
replication:
  - name: keep-a-copy
    repos: "team/**"
    to: { url: "https://registry.example.invalid", credentials: { username: robot, password: ${TARGET_PASSWORD} } }
`,
    });
  });
  after(() => server?.stop());

  const status = (headers: Record<string, string> = {}) => fetch(`${server.url}/berth/v1/replication`, { headers });

  test('anonymous: 401 with the challenge; a user without usage everywhere: 403 saying what it needs', async () => {
    const anon = await status();
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic /);
    const dev = await status(basic('dev', PASSWORDS.dev));
    assert.equal(dev.status, 403);
    const body = (await dev.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.match(body.errors[0]!.message, /usage permission on every repository/);
  });

  test('an operator sees each rule, its target and its queue, and no password', async () => {
    const res = await status(basic('ops', PASSWORDS.ops));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, new RegExp(TARGET_PASSWORD));
    const { rules } = JSON.parse(text) as { rules: Record<string, unknown>[] };
    assert.deepEqual(rules.map((r) => [r.name, r.mode, r.remote, r.repos, r.ready, r.dead, r.lastError]), [['keep-a-copy', 'push', 'https://registry.example.invalid', ['team/**'], 0, 0, null]]);
  });

  test('berth replication status: a table for the operator; the developer gets the refusal (exit 4)', async () => {
    const ops = berthEnv();
    const dev = berthEnv();
    dockerLogin(ops.DOCKER_CONFIG!, server.host, 'ops', PASSWORDS.ops);
    dockerLogin(dev.DOCKER_CONFIG!, server.host, 'dev', PASSWORDS.dev);
    const [shown, refused] = await Promise.all([ops, dev].map((env) => berth(['replication', 'status', '--registry', server.host], env)));
    assert.equal(shown!.code, 0, output(shown!));
    assert.match(shown!.stdout, /^RULE\s+MODE\s+REMOTE\s+WAITING\s+RUNNING\s+DEAD\s+LAST SUCCESS\s+LAG$/m);
    assert.match(shown!.stdout, /^keep-a-copy\s+push\s+https:\/\/registry\.example\.invalid\s+0\s+0\s+0\s+-\s+-$/m);
    assert.equal(refused!.code, 4, output(refused!));
    assert.match(refused!.stderr, /usage permission on every repository/);
  });
});
