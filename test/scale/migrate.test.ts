import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BERTH_BIN, startBerth, tempDir, type StartOptions } from '../helpers/berth.js';
import { imageConfig, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { Raw } from '../helpers/registry-client.js';
import { startS3, type S3Server } from '../helpers/s3.js';

const run = promisify(execFile);

let postgres: Postgres;
let s3: S3Server;
let work: string;
let prefixes = 0;

before(async () => {
  [postgres, s3] = await Promise.all([startPostgres(), startS3()]);
  work = tempDir('berth-migrate-');
});
after(() => Promise.all([postgres.stop(), s3.stop()]));

function embeddedConfig(dir: string): string {
  const file = join(work, `fs-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `data: ${dir}\n`);
  return file;
}

async function s3pgConfig(): Promise<{ file: string; prefix: string }> {
  const prefix = `m${++prefixes}/`;
  const url = await postgres.createDatabase();
  const file = join(work, `s3pg-${prefixes}.yaml`);
  writeFileSync(
    file,
    [
      'storage:',
      '  s3:',
      `    bucket: ${s3.bucket}`,
      `    endpoint: ${s3.endpoint}`,
      '    forcePathStyle: true',
      `    accessKeyId: ${s3.accessKeyId}`,
      `    secretAccessKey: ${s3.secretAccessKey}`,
      `    prefix: ${prefix}`,
      '    partSize: 5242880',
      'metadata:',
      '  postgres:',
      `    url: ${url}`,
      '',
    ].join('\n'),
  );
  return { file, prefix };
}

async function migrate(from: string, to: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BERTH_BIN, 'migrate', '--from', from, '--to', to, '--json'], { timeout: 60_000 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface Pushed {
  repo: string;
  tag: string;
  manifest: Blob;
  blobs: Blob[];
}

/** A registry with two repositories, a layer larger than one S3 part, and a tag that moved (history). */
async function populate(dir: string): Promise<Pushed[]> {
  const server = await startBerth({ dataDir: dir });
  try {
    const api = new Raw(server.url);
    const pushed: Pushed[] = [];
    for (const [repo, tag, size] of [
      ['team/app', 'v1', 6_000_000],
      ['team/app', 'v2', 1000],
      ['tools/cli', 'latest', 20_000],
    ] as const) {
      const config = imageConfig();
      const layer = randomBlob(size);
      const manifest = imageManifest(config, [layer]);
      await api.pushImage(repo, tag, [config, layer], manifest);
      pushed.push({ repo, tag, manifest, blobs: [config, layer] });
    }
    // Move team/app:v2 onto v1's manifest: the destination must answer with the moved tag.
    const v1 = pushed[0]!;
    assert.equal((await api.pushManifest('team/app', 'v2', v1.manifest)).status, 201);
    pushed[1] = { ...v1, tag: 'v2' };
    return pushed;
  } finally {
    await server.stop();
  }
}

/** Pulls everything through a real server on the migrated backend and compares bytes and digests. */
async function assertServes(start: StartOptions, pushed: Pushed[]): Promise<void> {
  const server = await startBerth(start);
  try {
    const api = new Raw(server.url);
    for (const p of pushed) {
      const m = await api.fetch(`/v2/${p.repo}/manifests/${p.tag}`);
      assert.equal(m.status, 200, `${p.repo}:${p.tag}`);
      assert.equal(m.headers.get('docker-content-digest'), p.manifest.digest);
      assert.ok(Buffer.from(await m.arrayBuffer()).equals(p.manifest.bytes));
      for (const b of p.blobs) {
        const r = await api.fetch(`/v2/${p.repo}/blobs/${b.digest}`);
        assert.equal(r.status, 200);
        assert.ok(Buffer.from(await r.arrayBuffer()).equals(b.bytes), `${p.repo} ${b.digest}`);
      }
    }
    const catalog = (await (await api.fetch('/v2/_catalog')).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['team/app', 'tools/cli']);
    const tags = (await (await api.fetch('/v2/team/app/tags/list')).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1', 'v2']);
  } finally {
    await server.stop();
  }
}

describe('berth migrate', () => {
  test('filesystem+SQLite to S3+PostgreSQL and back, resumable, every digest intact', async () => {
    const source = join(work, 'source');
    const pushed = await populate(source);
    const s3pg = await s3pgConfig();

    const first = await migrate(embeddedConfig(source), s3pg.file);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { blobs: { copied: number; present: number }; failed: unknown[] };
    // One config (all three are equal), three layers, three manifests.
    assert.deepEqual(report.failed, []);
    assert.equal(report.blobs.copied, 7);
    await assertServes({ args: ['--config', s3pg.file] }, pushed);

    // Lose one blob from the destination, as an interrupted run would: a rerun copies only that one.
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3 });
    const lost = pushed[2]!.blobs[1]!.digest.replace(':', '/');
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${s3pg.prefix}blobs/${lost}` }));
    client.destroy();
    const again = await migrate(embeddedConfig(source), s3pg.file);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { blobs: unknown }).blobs, { copied: 1, copiedBytes: 20_000, present: 6 });
    await assertServes({ args: ['--config', s3pg.file] }, pushed);

    const back = join(work, 'back');
    const home = await migrate(s3pg.file, embeddedConfig(back));
    assert.equal(home.code, 0, home.stderr);
    await assertServes({ dataDir: back }, pushed);
  });

  test('a blob whose bytes do not match its digest is reported and nothing of it, nor any metadata, is copied', async () => {
    const source = join(work, 'corrupt');
    const pushed = await populate(source);
    const layer = pushed[2]!.blobs[1]!;
    const [alg, hex] = layer.digest.split(':') as [string, string];
    const path = join(source, 'blobs', alg, hex.slice(0, 2), hex);
    writeFileSync(path, Buffer.alloc(layer.bytes.length, 0x41));

    const dest = join(work, 'corrupt-dest');
    const r = await migrate(embeddedConfig(source), embeddedConfig(dest));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${layer.digest}.*corrupt`));
    assert.match(r.stderr, /run the same command again/);
    assert.ok(!existsSync(join(dest, 'blobs', alg, hex.slice(0, 2), hex)), 'the corrupt blob must not appear in the destination');
    const server = await startBerth({ dataDir: dest });
    try {
      assert.equal((await new Raw(server.url).fetch('/v2/tools/cli/manifests/latest')).status, 404, 'metadata waits until every blob is there');
    } finally {
      await server.stop();
    }
  });
});
