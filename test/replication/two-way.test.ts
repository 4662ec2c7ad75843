import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { freePort } from '../helpers/distribution-auth.js';
import { ruleStatus, tagDigest } from '../helpers/replication.js';
import { berthEnv, cosignKeys, output, pushImage } from '../helpers/signing.js';
import { until } from '../helpers/wait.js';

describe('replication both ways between two Berths: copies arrive once and do not echo back and forth', () => {
  let a: BerthServer;
  let b: BerthServer;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  const env = berthEnv();

  before(async () => {
    const [aPort, bPort] = [await freePort(), await freePort()];
    const rule = (port: number) => `replication:\n  - name: other\n    repos: "team/**"\n    to: { url: "http://127.0.0.1:${port}" }\n    maxBackoff: 1s\n`;
    [a, b, keys] = await Promise.all([
      startBerth({ config: rule(bPort), args: ['--addr', `127.0.0.1:${aPort}`] }),
      startBerth({ config: rule(aPort), args: ['--addr', `127.0.0.1:${bPort}`] }),
      cosignKeys(join(tempDir('berth-two-way-'), 'k')),
    ]);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('a signed image pushed to A reaches B; then both queues go quiet', async () => {
    const digest = await pushImage(a, 'team/app:v1', 'two-way');
    const sign = await berth(['sign', '--key', keys.key, `${a.host}/team/app:v1`], { ...env, BERTH_KEY_PASSWORD: keys.password });
    assert.equal(sign.code, 0, output(sign));
    await until(async () => (await tagDigest(b, 'team/app', 'v1')) === digest, 'team/app:v1 on B', 90_000);
    await until(async () => (await berth(['verify', '--key', keys.pub, `${b.host}/team/app:v1`], env)).code === 0, 'the signature on B', 90_000);
    // An echo would keep a job in one of the two queues at every moment, and the run counts growing.
    let last = -1;
    await until(
      async () => {
        const [sa, sb] = [await ruleStatus(a, 'other'), await ruleStatus(b, 'other')];
        const runs = sa.succeeded + sb.succeeded;
        const quiet = sa.ready + sa.running + sb.ready + sb.running === 0 && runs === last;
        last = runs;
        return quiet;
      },
      'both queues empty and no new runs',
      90_000,
    );
    assert.ok(last <= 8, `a handful of runs, not an echo: ${last}`);
  });
});
