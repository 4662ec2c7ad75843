import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { blob, imageConfig, imageManifest } from '../helpers/oci.js';
import { Raw, requestFrom } from '../helpers/registry-client.js';
import { until } from '../helpers/wait.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const workerPids = (server: BerthServer): number[] => server.logs.filter((l) => l.msg === 'berth worker listening').map((l) => l.pid as number);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** A GET on a connection of its own: the supervisor hands each new connection to the next worker. */
const getTag = (server: BerthServer, path: string) => requestFrom('127.0.0.1', `${server.url}${path}`, { Accept: OCI_MANIFEST });

describe('berth serve --workers 2', () => {
  let server: BerthServer;
  before(async () => {
    server = await startBerth({ args: ['--workers', '2'] });
  });
  after(() => server.stop());

  test('two processes serve one listener, and each sees at once a tag the other moved', async () => {
    // Each worker writes its own line; it may reach the pipe after the supervisor's.
    await until(() => workerPids(server).length === 2, 'both workers listening');
    const raw = new Raw(server.url);
    const config = imageConfig();
    const layer = blob('one layer');
    const images = [imageManifest(config, [layer], { annotations: { build: '1' } }), imageManifest(config, [layer], { annotations: { build: '2' } })];
    await raw.pushImage('team/app', 'live', [config, layer], images[0]!);
    await raw.pushManifest('team/app', images[1]!.digest, images[1]!);
    for (let round = 0; round < 8; round++) {
      const expected = images[round % 2]!;
      // Both workers have the tag cached (they served it in the previous round); the write goes to one of them.
      const put = await raw.pushManifest('team/app', 'live', expected);
      assert.equal(put.status, 201);
      for (let i = 0; i < 4; i++) {
        const r = await getTag(server, '/v2/team/app/manifests/live');
        assert.equal(r.status, 200);
        assert.equal(r.headers['docker-content-digest'], expected.digest, `round ${round}, read ${i}: a worker served the tag's previous digest`);
      }
    }
    const readers = new Set(server.logs.filter((l) => l.msg === 'request' && l.method === 'GET' && l.path === '/v2/team/app/manifests/live').map((l) => l.pid));
    assert.equal(readers.size, 2, 'both workers answered reads of the tag');
  });

  test('a worker that dies is replaced, and the registry keeps answering meanwhile', async () => {
    const [victim] = workerPids(server);
    process.kill(victim!, 'SIGKILL');
    await until(() => workerPids(server).length === 3, 'a new worker', 60_000);
    assert.ok(server.logs.some((l) => l.msg === 'a worker process died; starting another' && l.worker === victim));
    for (let i = 0; i < 4; i++) assert.equal((await getTag(server, '/v2/')).status, 200);
  });

  test('SIGTERM stops every worker gracefully and the supervisor exits 0', async () => {
    const pids = workerPids(server);
    assert.equal(await server.stop('SIGTERM'), 0);
    await until(() => pids.every((p) => !alive(p)), 'the workers to exit');
  });
});

describe('berth serve --workers 2, killed', () => {
  test('a supervisor killed with SIGKILL takes its workers with it: nothing keeps the port or the database', async () => {
    const server = await startBerth({ args: ['--workers', '2'] });
    await until(() => workerPids(server).length === 2, 'both workers listening');
    const pids = workerPids(server);
    await server.stop('SIGKILL');
    await until(() => pids.every((p) => !alive(p)), 'the orphaned workers to exit', 30_000);
  });
});
