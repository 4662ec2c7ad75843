import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BERTH_BIN, tempDir } from '../helpers/berth.js';
import { freePort } from '../helpers/postgres.js';

const run = promisify(execFile);

async function serve(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [BERTH_BIN, 'serve', '--addr', '127.0.0.1:0', '--data', tempDir()], { env: { ...process.env, ...env }, timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('storage.s3 and metadata.postgres settings', () => {
  test('half a static credential or a non-postgres URL is refused, naming the key', async () => {
    const r = await serve({
      BERTH_STORAGE_S3_BUCKET: 'registry',
      BERTH_STORAGE_S3_ACCESS_KEY_ID: 'KEY',
      BERTH_METADATA_POSTGRES_URL: 'mysql://db/berth',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /storage\.s3.*accessKeyId and secretAccessKey together/);
    assert.match(r.stderr, /metadata\.postgres\.url \(from environment variable BERTH_METADATA_POSTGRES_URL\): a postgres:\/\/ URL/);
  });

  test('an unreachable PostgreSQL stops the server with the URL, password masked', async () => {
    const port = await freePort();
    const r = await serve({ BERTH_METADATA_POSTGRES_URL: `postgres://berth:hunter2@127.0.0.1:${port}/berth` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`metadata database postgres://berth:\\*\\*\\*@127\\.0\\.0\\.1:${port}/berth: .*ECONNREFUSED`));
    assert.doesNotMatch(r.stderr, /hunter2/);
  });
});
