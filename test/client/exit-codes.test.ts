import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { NON_CONFIG_VARIABLES } from '../../src/cli/env-check.js';
import { configEnvNames } from '../../src/config/config.js';
import { BERTH_BIN, REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { writeLayoutImage } from '../helpers/layout-image.js';
import { missingTools } from '../helpers/tools.js';

let server: BerthServer;
let src: string;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const noStack = (r: CliResult) => assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace:\n${r.stderr}`);
const oneLine = (r: CliResult) => assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);

before(async () => {
  server = await startBerth();
  src = tempDir('berth-src-');
  await writeLayoutImage(src, 'app', [{ 'etc/hello': 'hello\n' }]);
  const r = await berth(['copy', `oci:${src}:app`, `${server.host}/exit/app:v1`], env());
  assert.equal(r.code, 0, r.stderr);
});
after(() => server.stop());

describe('exit codes: one table, in docs/CLIENT.md and in the code', () => {
  test('the documented table is the one the code uses', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/CLIENT.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Exit codes'));
    const documented = [...section.slice(0, section.indexOf('\n## ', 4)).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    assert.deepEqual(documented.sort((a, b) => a - b), Object.values(Exit).sort((a, b) => a - b));
  });

  test('usage errors exit 2 (commander would say 1); help exits 0', async () => {
    for (const args of [['pull'], ['pull', '--no-such-flag', 'x'], ['no-such-command'], ['history'], ['user', 'add'], ['gc', '--bogus']]) {
      const r = await berth(args, env());
      assert.equal(r.code, Exit.usage, `berth ${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await berth(['--help'], env())).code, Exit.ok);
    assert.equal((await berth(['pull', '--help'], env())).code, Exit.ok);
    const badPlatform = await berth(['pull', '--platform', 'foo', `${server.host}/exit/app:v1`], env());
    assert.equal(badPlatform.code, Exit.usage, badPlatform.stderr);
    assert.equal(badPlatform.stdout, '', 'reported before "Pulling from"');
    assert.match(badPlatform.stderr, /invalid platform "foo"/);
  });

  test('operator commands follow the table: user, history, usage', async () => {
    const file = join(tempDir(), 'htpasswd');
    const noUser = await berth(['user', 'del', 'nobody', '-f', file], {});
    assert.equal(noUser.code, Exit.notFound, noUser.stderr);
    assert.match(noUser.stderr, /^berth user del: no user "nobody"/);
    assert.equal((await berth(['user', 'add', 'a b', '-f', file, '-p', 'x'], {})).code, Exit.usage);
    const unknownTag = await berth(['tag-history', `${server.host}/exit/app:never`], env());
    assert.equal(unknownTag.code, Exit.notFound, unknownTag.stderr);
    const badRef = await berth(['usage', '--what-if-delete', 'v1'], env());
    assert.equal(badRef.code, Exit.usage, badRef.stderr);
  });

  test('a closed stdout ends the command quietly', async () => {
    const e = env();
    assert.equal((await berth(['pull', `${server.host}/exit/app:v1`], e)).code, 0);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BERTH_BIN, 'inspect', `${server.host}/exit/app:v1`], { env: { ...process.env, ...e }, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader goes away before berth writes a byte: `berth inspect REF | head -0`.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.stderr, '');
    assert.equal(r.code, Exit.closedOutput);
  });

  test('a docker-archive in a directory that does not exist: one line naming the path, before any blob moves', async () => {
    const r = await berth(['copy', `oci:${src}:app`, 'docker-archive:/nonexistent-dir/x.tar'], env());
    assert.equal(r.code, Exit.failure);
    assert.match(r.stderr, /^berth copy: cannot write \/nonexistent-dir\/x\.tar: directory \/nonexistent-dir does not exist\n$/);
  });

  test('an unexpected error is one line; --debug adds the stack', async () => {
    const e = env();
    mkdirSync(e.BERTH_HOME, { recursive: true });
    writeFileSync(join(e.BERTH_HOME, 'index.json'), '{"schemaVersion":2,"manifests":[null]}');
    const r = await berth(['images'], e);
    assert.equal(r.code, Exit.failure);
    oneLine(r);
    noStack(r);
    assert.match(r.stderr, /^berth images: /);
    const debug = await berth(['--debug', 'images'], e);
    assert.match(debug.stderr, /^\s+at /m);
  });
});

describe('configuration from the environment', () => {
  test('a bad BERTH_* value is blamed on the variable, not on the config file', async () => {
    const dir = tempDir();
    const config = join(dir, 'berth.yaml');
    writeFileSync(config, 'log:\n  level: warn\n');
    const r = await berth(['serve', '--config', config, '--data', join(dir, 'data')], { BERTH_HTTP_ADDR: 'not-an-address' });
    assert.equal(r.code, Exit.usage, r.stderr);
    assert.match(r.stderr, /http\.addr \(from environment variable BERTH_HTTP_ADDR\): /);
    assert.doesNotMatch(r.stderr, new RegExp(`in ${config}`));
  });

  test('an unknown BERTH_ variable is warned about, with the nearest real one', async () => {
    const r = await berth(['ref', 'alpine'], { ...env(), BERTH_RETRIESS: '2' });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: BERTH_RETRIESS is not a berth setting and is ignored \(did you mean BERTH_RETRIES\?\)/);
    const quiet = await berth(['ref', 'alpine'], { ...env(), BERTH_RETRIES: '2', BERTH_LOG_LEVEL: 'warn' });
    assert.equal(quiet.stderr, '', 'client variables and config keys are known');
  });

  test('every BERTH_ variable the code reads is a config key or on the one list of non-config variables', () => {
    const known = new Set([...configEnvNames(), ...NON_CONFIG_VARIABLES]);
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/env\.(BERTH_[A-Z0-9_]+)/g)) read.add(m[1]!);
      }
    };
    for (const d of ['src', 'test', 'bench']) walk(join(REPO_ROOT, d));
    assert.ok(read.has('BERTH_HOME') && read.has('BERTH_RETRIES'), 'the scan finds what the client reads');
    assert.deepEqual([...read].filter((n) => !known.has(n)), []);
  });
});

describe('gc beside a registry', () => {
  test('without a data directory gc refuses and creates nothing', async () => {
    const cwd = tempDir();
    const r = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [BERTH_BIN, 'gc'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    assert.equal(r.code, Exit.usage, r.stderr);
    assert.match(r.stderr, /no registry at .*berth-data: name the data directory berth serve uses with --data DIR/);
    assert.equal(existsSync(join(cwd, 'berth-data')), false);
  });

  test('gc within the grace period says what waits for it', async () => {
    const e = env();
    const other = tempDir('berth-src-');
    const gone = await writeLayoutImage(other, 'gone', [{ 'only/here': 'unique to this image\n' }]);
    assert.equal((await berth(['copy', `oci:${other}:gone`, `${server.host}/exit/gone:v1`], e)).code, 0);
    const del = await fetch(`${server.url}/v2/exit/gone/manifests/${gone.manifestDigest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const r = await berth(['gc', '--data', server.dataDir, '--dry-run'], e);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /would free 0 B in 0 blob\(s\)/);
    assert.match(r.stdout, /^3 unreferenced blob\(s\), \d+ B, wait for the grace period \(gc\.grace, 1h\) to end; a later run frees them$/m);
  });
});

describe('history against other registries', { skip: missingTools('docker-registry') }, () => {
  let dist: Distribution;
  before(async () => {
    dist = await startDistribution();
  });
  after(() => dist.stop());

  test('tag-history and usage say a registry that is not Berth does not offer the API', async () => {
    const h = await berth(['tag-history', `${dist.host}/team/app:latest`], env());
    assert.equal(h.code, Exit.failure, h.stderr);
    assert.match(h.stderr, new RegExp(`^berth tag-history: ${dist.host} does not offer Berth's API \\(/berth/v1/repositories/team/app/tags/latest/history answered 404\\)`));
    const u = await berth(['usage', '--registry', dist.host], env());
    assert.match(u.stderr, /does not offer Berth's API/);
  });

  test('tag-history takes a full reference and asks that registry', async () => {
    const r = await berth(['tag-history', `${server.host}/exit/app:v1`], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^exit\/app:v1: now sha256:/);
  });
});
