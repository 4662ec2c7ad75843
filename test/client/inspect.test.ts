import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';

let server: BerthServer;
let image: BuiltImage;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);

before(async () => {
  server = await startBerth();
  const src = tempDir('berth-src-');
  image = await writeLayoutImage(src, 'api', [{ 'srv/api': 'api\n' }], {
    author: 'Team API <api@example.com>',
    config: {
      Entrypoint: ['/srv/api'],
      Cmd: ['--port', '8080'],
      WorkingDir: '/srv',
      User: 'api',
      Env: ['PATH=/usr/bin:/bin', 'MODE=production'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.opencontainers.image.source': 'https://example.com/api' },
    },
  });
  ok(await berth(['copy', `oci:${src}:api`, `${server.host}/team/api:1`], env()));
});
after(() => server.stop());

describe('berth inspect shows what docker inspect users look for', () => {
  test('the name keeps its tag; Entrypoint, Cmd, WorkingDir, User, Env, ExposedPorts, Labels and Author are shown', async () => {
    const r = await berth(['inspect', `docker://${server.host}/team/api:1`], env());
    ok(r);
    assert.match(r.stdout, new RegExp(`^Name:       ${server.host}/team/api:1$`, 'm'));
    for (const line of [
      'Author:     Team API <api@example.com>',
      'Entrypoint: ["/srv/api"]',
      'Cmd:        ["--port","8080"]',
      'WorkingDir: /srv',
      'User:       api',
      'Env:\n  PATH=/usr/bin:/bin\n  MODE=production',
      'ExposedPorts: 8080/tcp',
      'Labels:\n  org.opencontainers.image.source=https://example.com/api',
    ]) {
      assert.ok(r.stdout.includes(`${line}\n`), `shows ${line}:\n${r.stdout}`);
    }
  });
});

describe('pull: platform and digest references', () => {
  test('--platform that the image is not: refused like docker, nothing stored', async () => {
    const e = env();
    const r = await berth(['pull', '--platform', 'linux/arm64', `${server.host}/team/api:1`], e);
    assert.equal(r.code, Exit.failure, r.stderr);
    assert.match(r.stderr, new RegExp(`image with reference ${server.host}/team/api:1 was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64`));
    assert.deepEqual(JSON.parse((await berth(['images', '--json'], e)).stdout), []);
    assert.equal(existsSync(join(e.BERTH_HOME, 'blobs')), false, 'not a blob was stored');
    ok(await berth(['pull', '--platform', 'linux/amd64', `${server.host}/team/api:1`], e));
  });

  test('a digest reference is printed as repo@sha256:..., in progress and in errors', async () => {
    const r = await berth(['pull', `${server.host}/team/api@${image.manifestDigest}`], env());
    ok(r);
    assert.match(r.stdout.split('\n')[0]!, new RegExp(`^${server.host}/team/api@${image.manifestDigest}: Pulling from team/api$`));
    const missing = `sha256:${'0'.repeat(64)}`;
    const gone = await berth(['pull', `${server.host}/team/api@${missing}`], env());
    assert.equal(gone.code, Exit.notFound, gone.stderr);
    assert.match(gone.stderr, new RegExp(`manifest ${server.host}/team/api@${missing}: HTTP 404`));
  });

  test('a host name that does not resolve is not retried', async () => {
    const r = await berth(['pull', 'no-such-registry.invalid/team/app:1'], env());
    assert.equal(r.code, Exit.network, r.stderr);
    assert.match(r.stderr, /cannot reach https:\/\/no-such-registry\.invalid: the host name no-such-registry\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\)/);
    assert.doesNotMatch(r.stderr, /retrying/);
  });
});
