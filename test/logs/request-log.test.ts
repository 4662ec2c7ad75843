import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { basic, bearer, getToken, htpasswdFile, pushImage } from '../auth/helpers.js';
import { BERTH_BIN, binNodeFlags, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { freePort } from '../helpers/postgres.js';
import { missingTools } from '../helpers/tools.js';

const PASSWORD = 'correct-horse-battery-staple';
const requestLines = (s: BerthServer) => s.logs.filter((l) => l.msg === 'request');

describe('request logs', { skip: missingTools('htpasswd') }, () => {
  let dir: string;
  let server: BerthServer;
  const secrets: string[] = [PASSWORD, Buffer.from(`alice:${PASSWORD}`).toString('base64')];

  before(async () => {
    dir = tempDir('berth-logs-');
    const htpasswd = htpasswdFile(dir, { alice: PASSWORD });
    server = await startBerth({
      args: ['--log-level', 'trace'],
      config: `auth:\n  htpasswd: ${htpasswd}\n  token: { issuer: berth }\naccess:\n  - { repos: "**", users: [alice], actions: ["*"] }\n`,
    });
    const t = await getToken(server.url, { user: 'alice', password: PASSWORD, scopes: ['repository:logs/app:pull,push'], offline: true });
    secrets.push(t.token!, t.refresh_token!);
    assert.deepEqual(await pushImage(server.url, 'logs/app', 'v1', { ...bearer(t.token!), 'User-Agent': 'log-test/1.0' }), [201, 201, 201]);
    assert.equal((await fetch(`${server.url}/auth/token?service=berth`, { headers: basic('alice', 'wrong-password') })).status, 401);
    const refreshed = await fetch(`${server.url}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, service: 'berth', scope: 'repository:logs/app:pull' }) });
    assert.equal(refreshed.status, 200);
    secrets.push(((await refreshed.json()) as { access_token: string }).access_token);
    await sleep(200);
  });
  after(() => server?.stop());

  test('at trace level no password, Basic credential, token or Authorization header is written', () => {
    const text = JSON.stringify(server.logs);
    assert.ok(server.logs.length > 10);
    for (const s of secrets) assert.ok(!text.includes(s), `secret ${s.slice(0, 6)}... in the log`);
    assert.ok(!/authorization/i.test(text.replace(/"auth":(true|false)/g, '')), 'no Authorization header');
  });

  test('each request line says who, from where, with what, about which repository and tag or digest, at an ISO-8601 time', () => {
    const put = requestLines(server).find((l) => l.method === 'PUT' && String(l.path).includes('/manifests/'))!;
    assert.equal(put.user, 'alice');
    assert.equal(put.client, '127.0.0.1');
    assert.equal(put.userAgent, 'log-test/1.0');
    assert.equal(put.repository, 'logs/app');
    assert.equal(put.tag, 'v1');
    assert.match(String(put.digest), /^sha256:[0-9a-f]{64}$/);
    assert.equal(put.status, 201);
    assert.match(String(put.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const blob = requestLines(server).find((l) => l.method === 'POST' && String(l.path).includes('/blobs/uploads/'))!;
    assert.match(String(blob.digest), /^sha256:/, 'the blob pushed');
  });

  test('X-Forwarded-For is ignored from a client that is not a trusted proxy', async () => {
    await fetch(`${server.url}/v2/`, { headers: { 'X-Forwarded-For': '203.0.113.7', 'User-Agent': 'xff-untrusted' } });
    await sleep(100);
    assert.equal(requestLines(server).find((l) => l.userAgent === 'xff-untrusted')!.client, '127.0.0.1');
  });
});

describe('request logs at warn level', () => {
  test('no request line, and a failed request logs its error under the id in its X-Request-Id', async () => {
    // Not startBerth: at warn the server never logs the line that helper waits for.
    const [port, closed] = [await freePort(), await freePort()];
    const dir = tempDir('berth-logs-warn-');
    let id: string | null = null;
    writeFileSync(join(dir, 'berth.yaml'), `proxy:\n  upstreams:\n    - { namespace: down.io, url: "http://127.0.0.1:${closed}" }\n`);
    const serve = [process.execPath, ...binNodeFlags(), BERTH_BIN, 'serve', '--log-level', 'warn', '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data'), '--config', join(dir, 'berth.yaml')];
    const out = await whileServing(serve, port, false, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/v2/down.io/team/app/manifests/v1`);
      assert.equal(r.status, 503, 'the upstream refuses connections');
      id = r.headers.get('x-request-id');
      await sleep(200);
    });
    assert.ok(id, 'an X-Request-Id');
    const logs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(logs.filter((l) => l.msg === 'request'), []);
    const failed = logs.filter((l) => l.reqId === id);
    assert.ok(failed.length > 0, `a line under request ${id}: ${out}`);
    assert.ok(failed.every((l) => typeof l.level === 'number' && l.level >= 40));
  });
});

describe('request logs behind a trusted proxy', () => {
  test('X-Forwarded-For from a configured proxy gives the client address', async () => {
    const server = await startBerth({ config: 'http:\n  trustedProxies: ["127.0.0.1"]\n' });
    try {
      await fetch(`${server.url}/v2/`, { headers: { 'X-Forwarded-For': '203.0.113.7', 'User-Agent': 'xff-trusted' } });
      await sleep(100);
      assert.equal(requestLines(server).find((l) => l.userAgent === 'xff-trusted')!.client, '203.0.113.7');
    } finally {
      await server.stop();
    }
  });
});

/** Runs `berth serve --log-format pretty`, makes two requests, and returns what it wrote. */
async function prettyOutput(onTerminal: boolean): Promise<string> {
  const port = await freePort();
  const serve = [process.execPath, ...binNodeFlags(), BERTH_BIN, 'serve', '--log-format', 'pretty', '--addr', `127.0.0.1:${port}`, '--data', tempDir()];
  return whileServing(serve, port, onTerminal, async () => {
    await fetch(`http://127.0.0.1:${port}/v2/`);
    await fetch(`http://127.0.0.1:${port}/v2/_catalog`);
    await sleep(300);
  });
}

/** Runs the `serve` command line until it answers on `port` and `during` is done; what it wrote to stdout. */
async function whileServing(serve: string[], port: number, onTerminal: boolean, during: () => Promise<void>): Promise<string> {
  // `script` gives the server a pseudo-terminal, as a person's shell would.
  const child = onTerminal
    ? spawn('script', ['-qfec', serve.map((a) => `'${a}'`).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], detached: true })
    : spawn(serve[0]!, serve.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)); i++) {
      if (i > 200) assert.fail(`berth serve did not start:\n${out}`);
      await sleep(50);
    }
    await during();
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
  return out;
}

describe('--log-format pretty', { skip: missingTools('script') }, () => {
  test('into a pipe: no colour, one line per request', async () => {
    const out = await prettyOutput(false);
    assert.ok(!out.includes('\x1b['), 'no escape sequences');
    const lines = out.split('\n').filter((l) => l.includes('request'));
    assert.equal(lines.filter((l) => l.includes('"path":"/v2/"')).length, 1);
    assert.equal(lines.filter((l) => l.includes('"path":"/v2/_catalog"')).length, 1);
    for (const l of lines) assert.match(l, /^\[\d{4}-\d\d-\d\dT[^\]]+\] INFO/);
  });

  test('on a terminal: colour', async () => {
    const out = await prettyOutput(true);
    assert.ok(out.includes('\x1b['), 'escape sequences for colour');
    assert.ok(out.includes('/v2/_catalog'));
  });
});
