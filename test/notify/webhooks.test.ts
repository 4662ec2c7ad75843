import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { freePort } from '../helpers/postgres.js';
import { imageConfig, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { Receiver, type WireEvent } from '../helpers/webhook-receiver.js';

const SECRET = 'a-shared-secret-for-hmac';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Status {
  endpoints: { name: string; pending: number; delivered: number; dropped: number; lastError: string | null; lastSuccessAt: string | null }[];
}

async function status(server: BerthServer): Promise<Status> {
  const r = await berth(['notifications', 'status', '--registry', server.host, '--json'], { HOME: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

async function pushImage(api: Raw, repo: string, tag: string): Promise<{ config: Blob; layer: Blob; manifest: Blob; requestId: string }> {
  const config = imageConfig();
  const layer = randomBlob(2000);
  const manifest = imageManifest(config, [layer]);
  for (const b of [config, layer]) assert.equal((await api.pushBlob(repo, b)).status, 201);
  const put = await api.pushManifest(repo, tag, manifest);
  assert.equal(put.status, 201);
  return { config, layer, manifest, requestId: put.headers.get('x-request-id')! };
}

const withoutIds = (e: WireEvent) => ({ ...e, id: undefined, timestamp: undefined, request: { ...e.request, id: undefined } });

describe('webhooks: Distribution notifications, delivered from the outbox', () => {
  const r: Record<string, Receiver> = {};
  let server: BerthServer;
  let api: Raw;
  let first: Awaited<ReturnType<typeof pushImage>>;
  let closedPort: number;

  before(async () => {
    for (const name of ['flaky', 'signed', 'cloud', 'hang', 'elsewhere', 'target', 'samehost', 'huge', 'slow']) r[name] = await Receiver.start();
    r.flaky!.failFirst(3);
    r.hang!.behave(() => ({ hang: true }));
    r.slow!.behave(() => ({ hang: true }));
    r.elsewhere!.behave(() => ({ redirect: `${r.target!.url}/events` }));
    r.samehost!.behave((n) => (n === 0 ? { redirect: '/final' } : { status: 200 }));
    r.huge!.behave(() => ({ status: 500, body: Buffer.alloc(20 << 20, 'x') }));
    closedPort = await freePort();
    const endpoint = (name: string, url: string, extra = '', timeout = '2s') => `    - { name: ${name}, url: "${url}", timeout: ${timeout}, threshold: 2, backoff: 100ms${extra} }\n`;
    server = await startBerth({
      config:
        'notifications:\n  endpoints:\n' +
        endpoint('flaky', `${r.flaky!.url}/events`, ', headers: { Authorization: [Bearer receiver-token] }') +
        endpoint('signed', `${r.signed!.url}/events`, `, secret: ${SECRET}`) +
        endpoint('cloud', `${r.cloud!.url}/events`, ', format: cloudevents, ignore: { actions: [pull] }') +
        endpoint('hang', `${r.hang!.url}/events`, '', '1h') +
        endpoint('unreachable', `http://127.0.0.1:${closedPort}/events`) +
        endpoint('elsewhere', `${r.elsewhere!.url}/events`) +
        // Room for both hops on a loaded machine: the timeout covers the whole delivery, redirect included.
        endpoint('samehost', `${r.samehost!.url}/events`, '', '20s') +
        endpoint('huge', `${r.huge!.url}/events`) +
        endpoint('slow', `${r.slow!.url}/events`, '', '300ms'),
    });
    api = new Raw(server.url);
    first = await pushImage(api, 'hooks/app', 'v1');
  });
  after(async () => {
    await server?.stop();
    await Promise.all(Object.values(r).map((x) => x.close()));
  });

  test('a receiver that fails the first deliveries gets every event, in order, in Distribution\'s envelope', async () => {
    const events = await r.flaky!.waitForEvents(3);
    assert.deepEqual(
      r.flaky!.deliveries.slice(0, 4).map((d) => d.status),
      [503, 503, 503, 202],
      'the first event was offered until the receiver took it',
    );
    const firstId = events[0]!.id;
    for (const d of r.flaky!.deliveries.slice(0, 4)) assert.equal((JSON.parse(d.body.toString()) as { events: WireEvent[] }).events[0]!.id, firstId, 'retries resend the same event');
    const d = r.flaky!.deliveries[3]!;
    assert.equal(d.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
    assert.equal(d.headers.authorization, 'Bearer receiver-token', 'configured headers are sent');
    assert.equal(d.path, '/events');

    const source = events[0]!.source as { addr: string; instanceID: string };
    assert.equal(source.addr, `${hostname()}:${server.host.split(':')[1]}`);
    assert.match(source.instanceID, /^[0-9a-f-]{36}$/);
    const request = { addr: events[2]!.request.addr, host: server.host, useragent: 'node' };
    assert.match(String(request.addr), /^127\.0\.0\.1:\d+$/);
    const blobPush = (b: Blob) => ({
      action: 'push',
      target: { mediaType: 'application/octet-stream', size: b.bytes.length, digest: b.digest, length: b.bytes.length, repository: 'hooks/app', url: `${server.url}/v2/hooks/app/blobs/${b.digest}` },
      actor: {},
      source,
    });
    assert.deepEqual(
      events.slice(0, 3).map((e) => ({ ...withoutIds(e), request: undefined })),
      [
        { ...blobPush(first.config), id: undefined, timestamp: undefined, request: undefined },
        { ...blobPush(first.layer), id: undefined, timestamp: undefined, request: undefined },
        {
          action: 'push',
          target: { mediaType: OCI_MANIFEST, size: first.manifest.bytes.length, digest: first.manifest.digest, length: first.manifest.bytes.length, repository: 'hooks/app', url: `${server.url}/v2/hooks/app/manifests/${first.manifest.digest}`, tag: 'v1' },
          actor: {},
          source,
          id: undefined,
          timestamp: undefined,
          request: undefined,
        },
      ],
    );
    assert.deepEqual(events[2]!.request, { id: first.requestId, addr: request.addr, host: server.host, method: 'PUT', useragent: 'node' }, 'the request that pushed the manifest');
    assert.equal(events[0]!.request.method, 'POST');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'every event has an id of its own');
    for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.timestamp)) && e.timestamp.endsWith('Z'), e.timestamp);
  });

  test('every body is signed with HMAC-SHA256 of the configured secret (checked with openssl)', async () => {
    await r.signed!.waitForEvents(3);
    for (const d of r.signed!.deliveries) {
      const hex = execFileSync('openssl', ['dgst', '-sha256', '-hmac', SECRET, '-r'], { input: d.body }).toString().split(' ')[0];
      assert.equal(d.headers['x-berth-signature-256'], `sha256=${hex}`);
    }
    assert.equal(r.flaky!.deliveries[0]!.headers['x-berth-signature-256'], undefined, 'no secret, no signature');
  });

  test('a push that fails tells nothing: events commit with the change or not at all', async () => {
    const missing = randomBlob(100);
    const orphan = imageManifest(imageConfig('arm64'), [missing]);
    assert.equal((await api.pushManifest('hooks/app', 'broken', orphan)).status, 400);
    const after = await pushImage(api, 'hooks/after', 'v1');
    await until('the next push arrives', async () => (r.signed!.events().some((e) => e.target.digest === after.manifest.digest) ? true : undefined));
    assert.ok(!r.signed!.events().some((e) => e.target.digest === orphan.digest || e.target.tag === 'broken'));
  });

  test('pulls (GET and HEAD, as Distribution counts them) are told; an endpoint ignoring pulls gets none', async () => {
    const before = r.signed!.events().length;
    assert.equal((await api.fetch('/v2/hooks/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);
    assert.equal((await api.fetch(`/v2/hooks/app/blobs/${first.layer.digest}`, { method: 'HEAD' })).status, 200);
    const events = (await r.signed!.waitForEvents(before + 2)).slice(before);
    assert.deepEqual(
      events.map((e) => [e.action, e.target.digest, e.target.tag, e.request.method]),
      [
        ['pull', first.manifest.digest, 'v1', 'GET'],
        ['pull', first.layer.digest, undefined, 'HEAD'],
      ],
    );
    // Delivered in order: once the cloud receiver has the next push, it would have had the pulls before it.
    const next = await pushImage(api, 'hooks/other', 'v1');
    const cloud = await until('cloud receiver gets the later push', async () => {
      const got = r.cloud!.deliveries.filter((d) => d.status < 300).map((d) => JSON.parse(d.body.toString()) as { data: WireEvent; type: string; subject: string; specversion: string });
      return got.some((c) => c.data.target.digest === next.manifest.digest) ? got : undefined;
    });
    assert.ok(!cloud.some((c) => c.data.action === 'pull'), 'ignore.actions: [pull]');
  });

  test('CloudEvents 1.0: one structured event per request, carrying Distribution\'s event as data', async () => {
    const d = await until('a cloud delivery', async () => r.cloud!.deliveries.find((x) => x.status < 300));
    assert.equal(d.headers['content-type'], 'application/cloudevents+json');
    const ce = JSON.parse(d.body.toString()) as Record<string, unknown> & { data: WireEvent };
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.type, 'io.berth.registry.blob.push');
    assert.equal(ce.subject, `hooks/app@${first.config.digest}`);
    assert.equal(ce.id, ce.data.id);
    assert.equal(ce.time, ce.data.timestamp);
    const same = r.signed!.events().find((e) => e.id === ce.data.id);
    assert.deepEqual(same, ce.data, 'the same event (same id) as the Distribution-format endpoint got');
  });

  test('a receiver that hangs holds up only its own queue: pushes go on and other endpoints keep receiving', async () => {
    await until('the hanging receiver holds a delivery', async () => (r.hang!.open > 0 ? true : undefined));
    const pushed = [];
    for (let i = 0; i < 3; i++) pushed.push(await pushImage(api, `hooks/busy${i}`, 'v1'));
    const last = pushed[pushed.length - 1]!.manifest.digest;
    await until('the signed receiver got the last push', async () => (r.signed!.events().some((e) => e.target.digest === last) ? true : undefined));
    assert.equal(r.hang!.open, 1, 'its one delivery is still waiting for an answer');
    assert.equal(r.hang!.deliveries.length, 1, 'nothing overtook it');
    const s = (await status(server)).endpoints.find((e) => e.name === 'hang')!;
    assert.ok(s.pending >= 3 * 3, `hang has the later events waiting (${s.pending})`);
  });

  test('bad receivers: unreachable, redirecting elsewhere, huge answers and slow ones fail with a clear error; a same-origin redirect is followed', async () => {
    const errors = await until('every bad receiver has an error', async () => {
      const s = await status(server);
      const byName = new Map(s.endpoints.map((e) => [e.name, e]));
      const names = ['unreachable', 'elsewhere', 'huge', 'slow'];
      return names.every((n) => byName.get(n)?.lastError) ? byName : undefined;
    });
    assert.match(errors.get('unreachable')!.lastError!, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`));
    assert.match(errors.get('elsewhere')!.lastError!, new RegExp(`307: the receiver redirects to ${r.target!.url.replace(/\./g, '\\.')}, which is not followed`));
    assert.equal(r.target!.deliveries.length, 0, 'nothing was sent to the other host');
    const huge = errors.get('huge')!.lastError!;
    assert.match(huge, /^the receiver answered 500: x+$/);
    assert.ok(huge.length < 400, 'at most a few hundred bytes of the answer are kept');
    assert.equal(errors.get('slow')!.lastError, 'no answer within 300 ms');
    for (const n of ['unreachable', 'elsewhere', 'huge', 'slow']) assert.ok(errors.get(n)!.pending >= 3 && errors.get(n)!.delivered === 0, n);

    const same = await r.samehost!.waitForEvents(3);
    assert.equal(r.samehost!.deliveries[0]!.status, 307);
    assert.equal(r.samehost!.deliveries[1]!.path, '/final');
    assert.equal(same[0]!.target.digest, first.config.digest);
    assert.equal(errors.get('samehost')!.lastError, null);
  });

  test('notification status needs nothing more than the operator view; secrets and tokens are never in it or in the log', async () => {
    const s = await status(server);
    assert.deepEqual(
      s.endpoints.map((e) => e.name),
      ['flaky', 'signed', 'cloud', 'hang', 'unreachable', 'elsewhere', 'samehost', 'huge', 'slow'],
    );
    const flaky = s.endpoints.find((e) => e.name === 'flaky')!;
    assert.ok(flaky.delivered >= 3 && flaky.lastSuccessAt !== null);
    const text = JSON.stringify(s) + JSON.stringify(server.logs);
    assert.ok(!text.includes(SECRET), 'the HMAC secret');
    assert.ok(!text.includes('receiver-token'), 'configured header values');
    const human = await berth(['notifications', 'status', '--registry', server.host], { HOME: server.dataDir });
    assert.match(human.stdout, /^ENDPOINT\s+URL\s+PENDING/m);
    assert.match(human.stdout, /unreachable: last error at .*ECONNREFUSED/);
  });
});

describe('webhooks: pulls turned off', () => {
  test('notifications.pulls: 0 tells no pull, and every push still', async () => {
    const receiver = await Receiver.start();
    const server = await startBerth({ config: `notifications:\n  pulls: 0\n  endpoints:\n    - { name: quiet, url: "${receiver.url}/events" }\n` });
    try {
      const api = new Raw(server.url);
      const { manifest, layer } = await pushImage(api, 'quiet/app', 'v1');
      assert.equal((await api.fetch('/v2/quiet/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);
      assert.equal((await api.fetch(`/v2/quiet/app/blobs/${layer.digest}`, { method: 'HEAD' })).status, 200);
      assert.equal((await api.fetch(`/v2/quiet/app/manifests/${manifest.digest}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).status, 200);
      const second = await pushImage(api, 'quiet/app', 'v2');
      // Delivered in order: once the second image's manifest is in, any pull told before it would be too.
      const events = await receiver.waitForEvents(6);
      assert.deepEqual(events.map((e) => e.action), ['push', 'push', 'push', 'push', 'push', 'push']);
      assert.equal(events[5]!.target.digest, second.manifest.digest);
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});

describe('webhooks: pulls sampled', () => {
  test('notifications.pulls: 0.25 tells about a quarter of the pulls, and every push', async () => {
    const receiver = await Receiver.start();
    const server = await startBerth({ config: `notifications:\n  pulls: 0.25\n  endpoints:\n    - { name: sampled, url: "${receiver.url}/events" }\n` });
    try {
      const api = new Raw(server.url);
      const { layer } = await pushImage(api, 'sampled/app', 'v1');
      const PULLS = 400;
      for (let i = 0; i < PULLS; i++) assert.equal((await api.fetch(`/v2/sampled/app/blobs/${layer.digest}`, { method: 'HEAD' })).status, 200);
      const second = await pushImage(api, 'sampled/app', 'v2');
      // In order per endpoint: once the second image's manifest is in, every pull told before it is too.
      await until('the second push', async () => receiver.events().find((e) => e.action === 'push' && e.target.digest === second.manifest.digest));
      const events = receiver.events();
      assert.equal(events.filter((e) => e.action === 'push').length, 6, 'every push');
      const told = events.filter((e) => e.action === 'pull').length;
      // Binomial(400, 0.25): mean 100, standard deviation 8.7; 50..150 is more than five deviations either way.
      assert.ok(told >= 50 && told <= 150, `${told} of ${PULLS} pulls told`);
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});

describe('webhooks: the outbox is bounded', () => {
  test('beyond notifications.maxPending new events are dropped, counted and logged, and pushes go on', async () => {
    const port = await freePort();
    const server = await startBerth({ config: `notifications:\n  maxPending: 4\n  endpoints:\n    - { name: down, url: "http://127.0.0.1:${port}/", timeout: 200ms, backoff: 10s, threshold: 1 }\n` });
    try {
      const api = new Raw(server.url);
      for (let i = 0; i < 3; i++) await pushImage(api, `capped/app${i}`, 'v1');
      const s = (await status(server)).endpoints[0]!;
      assert.equal(s.pending, 4, 'exactly the cap is kept');
      assert.equal(s.dropped, 5, 'the other five of nine events were dropped');
      assert.ok(server.logs.some((l) => l.msg === 'notifications outbox full: dropping events for this endpoint until the receiver catches up' && l.endpoint === 'down'));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^berth_notifications_dropped_total\{endpoint="down"\} 5$/m);
    } finally {
      await server.stop();
    }
  });
});
