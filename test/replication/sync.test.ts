import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { dockerLogin, ruleStatus, tagDigest } from '../helpers/replication.js';
import { berthEnv, copyImageIn, cosignKeys, output } from '../helpers/signing.js';
import { missingTools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const USER = { user: 'reader', password: 'reader-Password-1' };
const auth = { Authorization: `Basic ${Buffer.from(`${USER.user}:${USER.password}`).toString('base64')}` };

describe('replication, pull mode: a sync rule mirrors selected tags of an upstream on schedule', { skip: missingTools('docker-registry', 'htpasswd') }, () => {
  let upstream: Distribution;
  let a: BerthServer;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  const env = berthEnv();
  const digests: Record<string, string> = {};

  before(async () => {
    const dir = tempDir('berth-sync-');
    [upstream, keys] = await Promise.all([startDistribution({ users: { [USER.user]: USER.password } }), cosignKeys(join(dir, 'keys'))]);
    // The client's login, and the rule's own: a docker config.json as `docker login` writes it.
    dockerLogin(env.DOCKER_CONFIG!, upstream.host, USER.user, USER.password);
    const ruleConfig = dockerLogin(join(dir, 'docker'), upstream.host, USER.user, USER.password);
    await Promise.all(['v1', 'v2', 'latest'].map(async (tag) => (digests[tag] = await copyImageIn(upstream, `library/app:${tag}`, `upstream ${tag}`, env))));
    const sign = await berth(['sign', '--key', keys.key, `${upstream.host}/library/app:v1`], { ...env, BERTH_KEY_PASSWORD: keys.password });
    assert.equal(sign.code, 0, output(sign));
    a = await startBerth({
      config: `replication:
  - name: mirror-app
    from: { url: "${upstream.url}", credentials: { dockerConfig: "${ruleConfig}" } }
    repos: [library/app]
    tags: ["v*"]
    prefix: mirror/
    interval: 2s
    maxBackoff: 1s
`,
    });
  });
  after(async () => {
    await a?.stop();
    await upstream?.stop();
  });

  test('v1 and v2 arrive under mirror/ with v1\'s signature (naming the upstream); latest does not; a tag moved upstream follows on the next round, and a signature added to it later', async () => {
    for (const tag of ['v1', 'v2']) await until(async () => (await tagDigest(a, 'mirror/library/app', tag)) === digests[tag], `mirror/library/app:${tag}`, 60_000);
    assert.equal(await tagDigest(a, 'mirror/library/app', 'latest'), undefined, 'latest does not match v*');
    // The signature came along intact (a trusted key signed this digest); it names the upstream repository, not the mirror's.
    const verify = await berth(['verify', '--key', keys.pub, `${a.host}/mirror/library/app:v1`], env);
    assert.equal(verify.code, 9, output(verify));
    assert.match(verify.stdout + verify.stderr, /signed with a trusted key, but not for this image as named \(signed as "127\.0\.0\.1:\d+\/library\/app"/);
    const moved = await copyImageIn(upstream, 'library/app:v2', 'upstream v2, rebuilt', env);
    await until(async () => (await tagDigest(a, 'mirror/library/app', 'v2')) === moved, 'the moved v2 mirrored', 60_000);
    // Signed upstream after it was mirrored: the tag did not move, the signature still follows.
    const sign = await berth(['sign', '--key', keys.key, `${upstream.host}/library/app:v2`], { ...env, BERTH_KEY_PASSWORD: keys.password });
    assert.equal(sign.code, 0, output(sign));
    const sigTag = `sha256-${moved.slice(7)}.sig`;
    const signed = await tagDigest(upstream, 'library/app', sigTag, auth);
    assert.ok(signed, 'berth sign wrote the cosign tag upstream');
    await until(async () => (await tagDigest(a, 'mirror/library/app', sigTag)) === signed, "v2's later signature mirrored", 60_000);
    const status = await ruleStatus(a, 'mirror-app');
    assert.equal(status.mode, 'sync');
    assert.equal(status.dead, 0);
    assert.ok(status.succeeded >= 4, `plans and copies recorded: ${JSON.stringify(status)}`);
  });
});
