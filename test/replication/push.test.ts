import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { freePort, startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { distributionTagDigest, dockerLogin, ruleStatus, tagDigest, TargetFront } from '../helpers/replication.js';
import { berthEnv, cosignKeys, gpgKey, output, pushImage, type GpgKey } from '../helpers/signing.js';
import { missingTools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const D_USER = { user: 'mirror', password: 'mirror-Password-1' };
const dAuth = { Authorization: `Basic ${Buffer.from(`${D_USER.user}:${D_USER.password}`).toString('base64')}` };
/** Copies land through a job queue polled every second and retried with backoff: generous, never a timing assertion. */
const LANDS = 90_000;

describe('replication, push mode: Berth A copies team/** v* tags to Berth B and to CNCF Distribution', { skip: missingTools('docker-registry', 'htpasswd') }, () => {
  let a: BerthServer;
  let b: BerthServer;
  let bPort: number;
  let bData: string;
  let distribution: Distribution;
  let failing: TargetFront;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  let gpg: GpgKey;
  const env = berthEnv();

  const startB = () => startBerth({ dataDir: bData, args: ['--addr', `127.0.0.1:${bPort}`] });

  before(async () => {
    bPort = await freePort();
    bData = tempDir('berth-repl-b-');
    failing = new TargetFront('http://127.0.0.1:9');
    failing.mode = 'fail';
    [b, distribution, keys, gpg] = await Promise.all([
      startB(),
      startDistribution({ users: { [D_USER.user]: D_USER.password } }),
      cosignKeys(join(tempDir('berth-repl-keys-'), 'k')),
      gpgKey(),
      failing.start(),
    ]);
    const retry = 'maxBackoff: 1s';
    a = await startBerth({
      config: `replication:
  - name: to-berth
    repos: "team/**"
    tags: ["v*"]
    to: { url: "${b.url}" }
    deletes: true
    ${retry}
  - name: to-mirror
    repos: "team/prefixed"
    to: { url: "${b.url}", prefix: "mirror/" }
    ${retry}
  - name: to-distribution
    repos: ["team/**"]
    tags: "v*"
    to: { url: "${distribution.url}", credentials: { username: ${D_USER.user}, password: ${D_USER.password} } }
    ${retry}
  - name: bad-auth
    repos: "auth/**"
    to: { url: "${distribution.url}", credentials: { username: ${D_USER.user}, password: wrong-password } }
    attempts: 2
    ${retry}
  - name: down-forever
    repos: "down/**"
    to: { url: "${failing.url}" }
    attempts: 2
    ${retry}
`,
    });
    dockerLogin(env.DOCKER_CONFIG!, distribution.host, D_USER.user, D_USER.password);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await distribution?.stop();
    await failing?.stop();
    await gpg?.close();
  });

  test('a pushed and signed image appears on B and on Distribution, verifiable there; other tags and repositories stay here', async () => {
    await pushImage(a, 'team/app:latest', 'not a release');
    await pushImage(a, 'other/app:v1', 'not a team repository');
    const digest = await pushImage(a, 'team/app:v1', 'release one');
    const sign = await berth(['sign', '--key', keys.key, `${a.host}/team/app:v1`], { ...env, BERTH_KEY_PASSWORD: keys.password });
    assert.equal(sign.code, 0, output(sign));
    await until(async () => (await tagDigest(b, 'team/app', 'v1')) === digest, 'team/app:v1 on B', LANDS);
    await until(async () => (await distributionTagDigest(distribution, 'team/app', 'v1', dAuth)) === digest, 'team/app:v1 on Distribution', LANDS);
    for (const target of [b.host, distribution.host]) {
      await until(async () => (await berth(['verify', '--key', keys.pub, `${target}/team/app:v1`], env)).code === 0, `the signature of team/app:v1 on ${target}`, LANDS);
    }
    assert.equal(await tagDigest(b, 'team/app', 'latest'), undefined, 'latest does not match v*');
    assert.equal(await tagDigest(b, 'other/app', 'v1'), undefined, 'other/app is not under team/');
    const status = await ruleStatus(a, 'to-berth');
    assert.ok(status.succeeded >= 1 && status.lastSuccessAt, JSON.stringify(status));
  });

  test('signatures attached after the image was replicated follow it: the cosign tag, the bundle referrer, the simple signature', async () => {
    const digest = await pushImage(a, 'team/late:v1', 'signed later');
    await until(async () => (await tagDigest(b, 'team/late', 'v1')) === digest, 'team/late:v1 on B', LANDS);
    const sign = await berth(['sign', '--key', keys.key, '--gpg-key', gpg.privateKey, `${a.host}/team/late:v1`], { ...env, BERTH_KEY_PASSWORD: keys.password });
    assert.equal(sign.code, 0, output(sign));
    const sigTag = `sha256-${digest.slice(7)}.sig`;
    const referrers = async (server: BerthServer) => ((await (await fetch(`${server.url}/v2/team/late/referrers/${digest}`)).json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest).sort();
    const simple = async (server: BerthServer) => ((await (await fetch(`${server.url}/extensions/v2/team/late/signatures/${digest}`)).json()) as { signatures: { content: string }[] }).signatures.map((x) => x.content).sort();
    const sigOnA = await tagDigest(a, 'team/late', sigTag);
    assert.ok(sigOnA, 'berth sign wrote the cosign tag');
    assert.equal((await referrers(a)).length, 1, 'and the bundle referrer');
    assert.equal((await simple(a)).length, 1, 'and the simple signature');
    await until(async () => (await tagDigest(b, 'team/late', sigTag)) === sigOnA, 'the cosign tag on B', LANDS);
    await until(async () => (await referrers(b)).join() === (await referrers(a)).join(), 'the bundle referrer on B', LANDS);
    await until(async () => (await simple(b)).join() === (await simple(a)).join(), 'the simple signature on B', LANDS);
    for (const key of [['--key', keys.pub], ['--gpg-key', gpg.publicKey]]) {
      const verify = await berth(['verify', ...key, `${b.host}/team/late:v1`], env);
      assert.equal(verify.code, 0, `${key[0]}: ${output(verify)}`);
    }
  });

  test('a target prefix: team/prefixed lands on B as mirror/team/prefixed', async () => {
    const digest = await pushImage(a, 'team/prefixed:v1', 'under a prefix');
    await until(async () => (await tagDigest(b, 'mirror/team/prefixed', 'v1')) === digest, 'mirror/team/prefixed:v1 on B', LANDS);
    const status = await ruleStatus(a, 'to-mirror');
    assert.equal(status.prefix, 'mirror/');
  });

  test('a target that is down for a while catches up, in order, once it is back', async () => {
    await b.stop();
    const first = await pushImage(a, 'team/api:v1', 'while B is down, first');
    await pushImage(a, 'team/api:v2', 'while B is down, second (moved below)');
    await until(async () => (await ruleStatus(a, 'to-berth')).lastError !== null, 'a failed copy to B', LANDS);
    const moved = await pushImage(a, 'team/api:v2', 'while B is down, second, moved');
    const waiting = await ruleStatus(a, 'to-berth');
    assert.ok(waiting.ready + waiting.running >= 2 && waiting.lagMs > 0, `both tags wait for B, the move folded into the waiting job: ${JSON.stringify(waiting)}`);
    b = await startB();
    await until(async () => (await tagDigest(b, 'team/api', 'v2')) === moved, 'team/api:v2 at its latest state on B', LANDS);
    assert.equal(await tagDigest(b, 'team/api', 'v1'), first);
    await until(async () => (await ruleStatus(a, 'to-berth')).ready === 0, 'the queue to B drained', LANDS);
  });

  test('deletes propagate only where the rule says so', async () => {
    const digest = await pushImage(a, 'team/gone:v1', 'to be deleted');
    await until(async () => (await tagDigest(b, 'team/gone', 'v1')) === digest, 'team/gone:v1 on B', LANDS);
    await until(async () => (await distributionTagDigest(distribution, 'team/gone', 'v1', dAuth)) === digest, 'team/gone:v1 on Distribution', LANDS);
    assert.equal((await fetch(`${a.url}/v2/team/gone/manifests/v1`, { method: 'DELETE' })).status, 202);
    await until(async () => (await tagDigest(b, 'team/gone', 'v1')) === undefined, 'the tag deleted on B', LANDS);
    // The copy of a later push to Distribution finishing shows the queue got past the delete.
    const later = await pushImage(a, 'team/gone:v2', 'after the delete');
    await until(async () => (await distributionTagDigest(distribution, 'team/gone', 'v2', dAuth)) === later, 'team/gone:v2 on Distribution', LANDS);
    assert.equal(await distributionTagDigest(distribution, 'team/gone', 'v1', dAuth), digest, 'deletes: false keeps the copy');
  });

  test('a manifest left untagged by a move, then deleted by digest here, is deleted there where deletes propagate', async () => {
    const old = await pushImage(a, 'team/moved:v1', 'first build');
    await until(async () => (await tagDigest(b, 'team/moved', 'v1')) === old, 'team/moved:v1 on B', LANDS);
    const rebuilt = await pushImage(a, 'team/moved:v1', 'second build');
    await until(async () => (await tagDigest(b, 'team/moved', 'v1')) === rebuilt, 'the moved tag on B', LANDS);
    await until(async () => (await distributionTagDigest(distribution, 'team/moved', 'v1', dAuth)) === rebuilt, 'the moved tag on Distribution', LANDS);
    assert.equal(await tagDigest(b, 'team/moved', old), old, 'the first build stays on B, untagged');
    assert.equal((await fetch(`${a.url}/v2/team/moved/manifests/${old}`, { method: 'DELETE' })).status, 202);
    await until(async () => (await tagDigest(b, 'team/moved', old)) === undefined, 'the untagged manifest deleted on B', LANDS);
    assert.equal(await tagDigest(b, 'team/moved', 'v1'), rebuilt, 'the tag and its image untouched');
    // The copy of a later push to Distribution finishing shows its queue got past the delete.
    const later = await pushImage(a, 'team/moved:v2', 'after the delete');
    await until(async () => (await distributionTagDigest(distribution, 'team/moved', 'v2', dAuth)) === later, 'team/moved:v2 on Distribution', LANDS);
    assert.equal(await distributionTagDigest(distribution, 'team/moved', old, dAuth), old, 'deletes: false keeps it');
  });

  test('a target refusing the credentials, and one answering 503 forever: dead jobs, the reason in status, nothing else held up', async () => {
    await pushImage(a, 'auth/app:v1', 'wrong password');
    await pushImage(a, 'down/app:v1', 'target down');
    await until(async () => (await ruleStatus(a, 'bad-auth')).dead === 1, 'the bad-auth job given up', LANDS);
    await until(async () => (await ruleStatus(a, 'down-forever')).dead === 1, 'the down-forever job given up', LANDS);
    const auth = await ruleStatus(a, 'bad-auth');
    assert.match(auth.lastError ?? '', /rejected the stored credentials|401|not logged in/, JSON.stringify(auth));
    assert.doesNotMatch(JSON.stringify(auth), /wrong-password/, 'the password is never shown');
    const down = await ruleStatus(a, 'down-forever');
    assert.match(down.lastError ?? '', /503|down for maintenance/, JSON.stringify(down));
    assert.equal(await distributionTagDigest(distribution, 'auth/app', 'v1', dAuth), undefined);
    const cli = await berth(['replication', 'status', '--registry', a.host], env);
    assert.equal(cli.code, 0, output(cli));
    assert.match(cli.stdout, /^down-forever\s+push\s+http:\/\/127\.0\.0\.1:\d+\s+0\s+0\s+1\s/m);
    assert.match(cli.stdout, /down-forever: last error .*503/);
    assert.doesNotMatch(cli.stdout + cli.stderr + a.logs.map((l) => JSON.stringify(l)).join('\n'), /wrong-password|mirror-Password-1/, 'no credential in status or logs');
  });
});
