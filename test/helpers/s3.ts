import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

const S3RVER_BIN = join(createRequire(import.meta.url).resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');

/**
 * A real S3-compatible server (s3rver, from npm) on a random loopback port,
 * with one empty bucket. It runs as its own process: a test that blocks its
 * event loop on a synchronous child (execFileSync of skopeo) must not stall
 * the bucket that the registry under test is waiting on.
 * `keepAlive: false` lets the test process exit while it runs (it is killed on exit).
 */
export async function startS3(opts: { bucket?: string; keepAlive?: boolean } = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'registry';
  const directory = mkdtempSync(join(tmpdir(), 'berth-s3-'));
  const child = spawn(process.execPath, [S3RVER_BIN, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const cleanup = () => {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /S3rver listening on [^:]+:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  if (opts.keepAlive === false) {
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref();
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver's fixed account.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      process.removeListener('exit', cleanup);
      child.kill('SIGTERM');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
