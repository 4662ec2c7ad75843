import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { s3pgEnv } from '../helpers/backends.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { imageConfig, imageManifest, randomBlob } from '../helpers/oci.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { Raw } from '../helpers/registry-client.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { Receiver } from '../helpers/webhook-receiver.js';

const endpointConfig = (url: string) => `notifications:\n  endpoints:\n    - { name: hook, url: "${url}", timeout: 1s, threshold: 3, backoff: 200ms }\n`;

/** Pushes a one-layer image; returns the digests in the order their events are recorded. */
async function pushImage(api: Raw, repo: string): Promise<string[]> {
  const config = imageConfig();
  const layer = randomBlob(1000);
  const manifest = imageManifest(config, [layer]);
  await api.pushImage(repo, 'v1', [config, layer], manifest);
  return [config.digest, layer.digest, manifest.digest];
}

describe('webhook delivery survives a crash', () => {
  let receiver: Receiver;
  before(async () => (receiver = await Receiver.start()));
  after(() => receiver.close());

  test('kill -9 with events pending: after the restart every one of them is delivered, with the ids it had', async () => {
    receiver.behave(() => ({ status: 500 }));
    const dataDir = tempDir();
    const config = endpointConfig(`${receiver.url}/events`);
    let server: BerthServer = await startBerth({ dataDir, config });
    const digests = [...(await pushImage(new Raw(server.url), 'crash/a')), ...(await pushImage(new Raw(server.url), 'crash/b'))];
    while (receiver.deliveries.length === 0) await sleep(20);
    const offered = (JSON.parse(receiver.deliveries[0]!.body.toString()) as { events: { id: string }[] }).events[0]!.id;
    server.process.kill('SIGKILL');
    await server.exited;

    receiver.behave(() => ({ status: 202 }));
    server = await startBerth({ dataDir, config });
    try {
      // The dead process's leases lapse first (10 s on SQLite), then the outbox drains.
      const events = await receiver.waitForEvents(digests.length, 40_000);
      assert.deepEqual(events.map((e) => e.target.digest), digests, 'all of them, in the order they happened');
      assert.equal(events[0]!.id, offered, 'the event offered before the crash is the same event');
    } finally {
      await server.stop();
    }
  });
});

describe('webhooks with two replicas on PostgreSQL', () => {
  let postgres: Postgres;
  let s3: S3Server;
  let receiver: Receiver;
  const replicas: BerthServer[] = [];

  before(async () => {
    [postgres, s3, receiver] = await Promise.all([startPostgres(), startS3(), Receiver.start()]);
    const env = s3pgEnv(s3, await postgres.createDatabase());
    const config = endpointConfig(`${receiver.url}/events`);
    replicas.push(...(await Promise.all([startBerth({ env, config }), startBerth({ env, config })])));
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await Promise.all([postgres?.stop(), s3?.stop(), receiver?.close()]);
  });

  test('events recorded on either replica are each delivered once, in order', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 6; i++) digests.push(...(await pushImage(new Raw(replicas[i % 2]!.url), `twice/app${i}`)));
    const events = await receiver.waitForEvents(digests.length, 30_000);
    // Both replicas poll the same outbox every second: give a second delivery every chance to show up.
    await sleep(3000);
    assert.equal(receiver.events().length, digests.length, 'no event delivered twice');
    assert.deepEqual(events.map((e) => e.target.digest), digests);
    assert.equal(new Set(events.map((e) => e.source.instanceID)).size, 2, 'events came from both replicas');
  });
});
