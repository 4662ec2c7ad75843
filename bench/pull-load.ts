import { execFile } from 'node:child_process';
import { childCpuSeconds } from './measure.js';

export interface PullResult {
  bytes: number;
  /** CPU seconds the curl processes used, user + system. */
  cpuSeconds: number;
}

/**
 * Pulls every path once, `parallel` curl processes at a time, each over one
 * keep-alive connection with bodies written to /dev/null. A Node client
 * reading four 64 MiB streams saturated its own core before either server
 * did; curl costs a fraction of that, so the figure is the server's.
 */
export async function curlPull(origin: string, paths: string[], parallel: number): Promise<PullResult> {
  const groups = Array.from({ length: parallel }, (_, k) => paths.filter((_, i) => i % parallel === k)).filter((g) => g.length > 0);
  const results = await Promise.all(groups.map((g) => curlGroup(origin, g)));
  return results.reduce((a, b) => ({ bytes: a.bytes + b.bytes, cpuSeconds: a.cpuSeconds + b.cpuSeconds }), { bytes: 0, cpuSeconds: 0 });
}

function curlGroup(origin: string, paths: string[]): Promise<PullResult> {
  const targets = paths.flatMap((p) => ['-o', '/dev/null', origin + p]);
  // `times` after curl reports curl's CPU (its second line: the children of this shell).
  const script = 'curl "$@"; code=$?; times; exit $code';
  const args = ['-c', script, 'sh', '-sS', '--fail', '-w', 'bytes=%{size_download}\\n', ...targets];
  return new Promise((res, rej) =>
    execFile('sh', args, { encoding: 'utf8', timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`curl pull failed: ${stderr || err.message}`));
      const sizes = [...stdout.matchAll(/^bytes=(\d+)$/gm)].map((m) => Number(m[1]));
      if (sizes.length !== paths.length) return rej(new Error(`curl pulled ${sizes.length} of ${paths.length} blobs`));
      const cpuSeconds = childCpuSeconds(stdout);
      res({ bytes: sizes.reduce((a, b) => a + b, 0), cpuSeconds });
    }),
  );
}
