import { connect, type Socket } from 'node:net';
import type { WrkResult } from './measure.js';

/**
 * A minimal keep-alive HEAD load generator over raw sockets. Debian's wrk 4.1
 * waits forever for the body a HEAD response announces in Content-Length, so
 * HEAD cannot go through wrk; a HEAD answer is headers only, so finding the
 * blank line is the whole parse.
 */
export async function headLoad(host: string, port: number, paths: string[], connections: number, seconds: number): Promise<WrkResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();

  const one = (socket: Socket) =>
    new Promise<void>((resolve) => {
      const loop = () => {
        if (performance.now() >= deadline) return resolve();
        const path = paths[next++ % paths.length]!;
        const started = performance.now();
        let buf = '';
        const onData = (d: Buffer) => {
          buf += d.toString('latin1');
          if (!buf.includes('\r\n\r\n')) return;
          socket.off('data', onData);
          if (!buf.startsWith('HTTP/1.1 200')) errors++;
          latencies.push(performance.now() - started);
          loop();
        };
        socket.on('data', onData);
        socket.write(`HEAD ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
      };
      loop();
    });

  const sockets = await Promise.all(
    Array.from({ length: connections }, () => new Promise<Socket>((res, rej) => {
      const s = connect(port, host, () => res(s));
      s.setNoDelay(true);
      s.once('error', rej);
    })),
  );
  await Promise.all(sockets.map(one));
  const wall = (performance.now() - t0) / 1000;
  sockets.forEach((s) => s.destroy());
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN) * 100) / 100;
  return { requests: latencies.length, reqPerSec: latencies.length / wall, p50ms: pct(0.5), p99ms: pct(0.99), errors, cpuSeconds: NaN };
}
