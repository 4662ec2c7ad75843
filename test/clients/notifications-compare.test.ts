import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { missingTools, Tools, umociImage } from '../helpers/tools.js';
import { Receiver, type WireEvent } from '../helpers/webhook-receiver.js';

const skip = missingTools('docker-registry', 'skopeo', 'umoci');

const endpoint = (url: string) => `notifications:\n  endpoints:\n    - name: compare\n      url: ${url}\n      timeout: 2s\n      threshold: 5\n      backoff: 200ms\n`;

/** Waits until the receiver has taken no new event for a while (Distribution sends from an in-memory queue, in the background). */
async function settled(r: Receiver): Promise<WireEvent[]> {
  let seen = -1;
  while (r.events().length !== seen) {
    seen = r.events().length;
    await sleep(1500);
  }
  return r.events();
}

/** An event without what differs by nature: ids, times, ports, and which process sent it. */
function comparable(e: WireEvent, origin: string): unknown {
  const target = { ...e.target };
  if (typeof target.url === 'string') target.url = target.url.replace(origin, '<registry>');
  return { action: e.action, target, request: { method: e.request.method, useragent: e.request.useragent }, actor: e.actor };
}

const key = (x: unknown): string => JSON.stringify(x);

/**
 * The reference check for webhooks: the same skopeo workflow against CNCF
 * Distribution (its notifications configured) and against Berth must send the
 * same events, field for field, ids and timestamps aside.
 */
describe('Berth and CNCF Distribution send the same notifications', { skip }, () => {
  let berth: BerthServer;
  let distribution: Distribution;
  const receivers: Record<'berth' | 'distribution', Receiver> = {} as never;

  before(async () => {
    const tools = new Tools();
    const src = tempDir('berth-notify-compare-');
    const layout = join(src, 'layout');
    await umociImage(layout, 'v1', { 'etc/os-release': 'ID=compare\n' });
    await umociImage(layout, 'v2', { 'app/main': 'two\n' }, { base: 'v1' });
    receivers.berth = await Receiver.start();
    receivers.distribution = await Receiver.start();
    [berth, distribution] = await Promise.all([
      startBerth({ config: endpoint(`${receivers.berth.url}/events`) }),
      startDistribution({ extraConfig: endpoint(`${receivers.distribution.url}/events`) }),
    ]);
    for (const host of [berth.host, distribution.host]) {
      const copy = (from: string, to: string) => tools.skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', from, `docker://${host}/${to}`);
      await copy(`oci:${layout}:v1`, 'team/app:v1');
      // v2 shares v1's layer: skopeo finds it there (HEAD), Distribution calls that a pull.
      await copy(`oci:${layout}:v2`, 'team/app:v2');
      await copy(`docker://${host}/team/app:v1`, 'mirror/app:v1');
      await tools.skopeo('delete', '--tls-verify=false', `docker://${host}/team/app:v2`);
    }
  });
  after(async () => {
    await berth?.stop();
    await distribution?.stop();
    await Promise.all(Object.values(receivers).map((r) => r.close()));
  });

  test('the same events with the same fields and values, ids and timestamps aside', async () => {
    const [b, d] = await Promise.all([settled(receivers.berth), settled(receivers.distribution)]);
    const ours = b.map((e) => comparable(e, berth.url));
    const theirs = d.map((e) => comparable(e, distribution.url));
    // Distribution does not promise an order across its queue; compare as multisets, then check Berth's order below.
    assert.deepEqual(ours.map(key).sort(), theirs.map(key).sort());
    assert.ok(ours.some((e) => (e as { action: string }).action === 'mount'), 'the copy within the registry mounted');
    for (const e of [...b, ...d]) {
      assert.deepEqual(Object.keys(e).sort(), ['action', 'actor', 'id', 'request', 'source', 'target', 'timestamp']);
      assert.deepEqual(Object.keys(e.request).sort(), ['addr', 'host', 'id', 'method', 'useragent']);
    }
  });

  test('the envelope: the same media type, and events in the order they happened on Berth', async () => {
    for (const r of Object.values(receivers)) assert.equal(r.deliveries[0]!.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
    const actions = receivers.berth.events().map((e) => e.action);
    assert.equal(actions[actions.length - 1], 'delete', 'the delete came last');
  });
});
