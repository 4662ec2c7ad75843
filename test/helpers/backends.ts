import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startPostgres, type Postgres } from './postgres.js';
import { startRgw } from './rgw.js';
import { startS3, type S3Server } from './s3.js';

/** `BERTH_TEST_BACKEND=s3pg` runs every `startBerth()` server on S3 + PostgreSQL instead of the embedded defaults. */
export const TEST_BACKEND = process.env.BERTH_TEST_BACKEND === 's3pg' ? 's3pg' : 'embedded';
/** Which S3 the suites get: s3rver (a fast fake, the default) or, with `BERTH_TEST_S3=rgw`, Ceph's RADOS Gateway. */
export const TEST_S3 = process.env.BERTH_TEST_S3 === 'rgw' ? 'rgw' : 's3rver';

/** A bucket on the S3 implementation this run tests against. */
export function startTestS3(opts: { keepAlive?: boolean } = {}): Promise<S3Server> {
  return TEST_S3 === 'rgw' ? startRgw(opts) : startS3(opts);
}

/** The env that points `berth serve` at a bucket (under `prefix`) and a PostgreSQL database. */
export function s3pgEnv(s3: S3Server, pgUrl: string, prefix = ''): Record<string, string> {
  return {
    BERTH_STORAGE_S3_BUCKET: s3.bucket,
    BERTH_STORAGE_S3_ENDPOINT: s3.endpoint,
    BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    BERTH_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    BERTH_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ...(prefix ? { BERTH_STORAGE_S3_PREFIX: prefix } : {}),
    BERTH_METADATA_POSTGRES_URL: pgUrl,
  };
}

/** Upload session ids that still hold objects under `prefix` in the bucket. */
export async function s3PendingUploads(s3: S3Server, prefix = ''): Promise<string[]> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const r = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}uploads/` }));
  client.destroy();
  return [...new Set((r.Contents ?? []).map((o) => o.Key!.slice(`${prefix}uploads/`.length).split('/')[0]!))];
}

interface Shared {
  s3: S3Server;
  pg: Postgres;
}

let shared: Promise<Shared> | undefined;
/** A data dir names one registry: a server restarted on it finds its database and key prefix again. */
const registries = new Map<string, Promise<{ url: string; prefix: string }>>();

/**
 * One S3 server and one PostgreSQL cluster per test process, started on first
 * use and stopped when the process exits; each data dir gets its own
 * database and key prefix, as it would get its own files.
 */
export async function acquireS3pg(dataDir: string): Promise<{ env: Record<string, string>; pendingUploads(): Promise<string[]> }> {
  shared ??= (async () => {
    const [s3, pg] = await Promise.all([startTestS3({ keepAlive: false }), startPostgres()]);
    process.once('exit', () => pg.stopSync());
    return { s3, pg };
  })();
  const { s3, pg } = await shared;
  if (!registries.has(dataDir)) registries.set(dataDir, pg.createDatabase().then((url) => ({ url, prefix: `server-${registries.size}/` })));
  const { url, prefix } = await registries.get(dataDir)!;
  return { env: s3pgEnv(s3, url, prefix), pendingUploads: () => s3PendingUploads(s3, prefix) };
}
