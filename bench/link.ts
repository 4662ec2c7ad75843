import net from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A loopback TCP relay in front of a registry whose answers share one link of
 * `bytesPerSecond`: the road between a cache and Docker Hub, which on
 * loopback is otherwise a gigabyte a second on the cores the cache needs.
 * A pull straight from the upstream and one through the cache both cross it.
 */
export class Link {
  /** When the link has sent everything given to it so far, in `performance.now()` milliseconds. */
  private due = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly bytesPerMs: number,
  ) {}

  static async start(target: string, bytesPerSecond: number): Promise<Link> {
    const { hostname, port } = new URL(target);
    let link!: Link;
    const server = net.createServer((client) => link.relay(client, hostname, Number(port)));
    link = new Link(server, bytesPerSecond / 1000);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return link;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Milliseconds until a chunk of `bytes` given now has crossed the link. */
  private take(bytes: number): number {
    const now = performance.now();
    this.due = Math.max(this.due, now) + bytes / this.bytesPerMs;
    return this.due - now;
  }

  private relay(client: net.Socket, host: string, port: number): void {
    const upstream = net.connect(port, host);
    const shaper = new Shaper((bytes) => this.take(bytes));
    // Either end going away ends the relay: nothing of a half-open pair is worth keeping.
    const end = () => [client, upstream].forEach((x) => x.destroy());
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', end);
      s.on('close', () => {
        this.sockets.delete(s);
        end();
      });
    }
    client.pipe(upstream);
    upstream.pipe(shaper).pipe(client);
  }
}

/** Passes each chunk on at once and takes the next when the link has carried it: the pipe's backpressure does the pacing. */
class Shaper extends Transform {
  constructor(private readonly cross: (bytes: number) => number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const wait = this.cross(chunk.length);
    this.push(chunk);
    // Timers fire in whole milliseconds; `due` carries what each wait rounds off, so the rate holds on average.
    if (wait >= 1) setTimeout(done, wait);
    else done();
  }
}
