import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { ruleStatus, tagDigest, TargetFront } from '../helpers/replication.js';
import { pushImage } from '../helpers/signing.js';
import { until } from '../helpers/wait.js';

describe('replication survives kill -9 of the source mid-copy', () => {
  let a: BerthServer;
  let b: BerthServer;
  let front: TargetFront;
  const aData = tempDir('berth-repl-a-');
  let config: string;

  before(async () => {
    b = await startBerth();
    front = new TargetFront(b.url);
    await front.start();
    config = `replication:\n  - name: to-b\n    repos: "team/**"\n    to: { url: "${front.url}" }\n    maxBackoff: 1s\n`;
    a = await startBerth({ dataDir: aData, config });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await front?.stop();
  });

  test('SIGKILL while the job runs; after a restart the job runs again and completes', async () => {
    front.mode = 'hold';
    const digest = await pushImage(a, 'team/app:v1', 'copied across a crash');
    await until(() => front.held > 0, 'the copy reaching its manifest PUT');
    assert.equal((await ruleStatus(a, 'to-b')).running, 1);
    await a.stop('SIGKILL');
    front.dropHeld();
    assert.equal(await tagDigest(b, 'team/app', 'v1'), undefined, 'the copy did not finish before the kill');
    a = await startBerth({ dataDir: aData, config });
    // The dead holder's leases (the job's and the queue's) lapse first: seconds on SQLite.
    await until(async () => (await tagDigest(b, 'team/app', 'v1')) === digest, 'team/app:v1 on B after the restart', 180_000);
    await until(async () => (await ruleStatus(a, 'to-b')).succeeded === 1, 'the job recorded as done once', 20_000);
  });
});
