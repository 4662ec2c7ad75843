import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; its surface here is three calls.
// @ts-expect-error no declaration file
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** A real S3-compatible server (s3rver, from npm) on a random loopback port, with one empty bucket. */
export async function startS3(opts: { bucket?: string; keepAlive?: boolean } = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'registry';
  const directory = mkdtempSync(join(tmpdir(), 'berth-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as { port: number };
  // A server shared by a whole test file must not keep the file's process alive once its tests are done.
  if (opts.keepAlive === false) {
    (server.httpServer as { unref(): void }).unref();
    process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver's fixed account.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
