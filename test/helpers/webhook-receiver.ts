import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** One POST the receiver got, with what it answered. */
export interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  path: string;
  status: number;
}

/** What the receiver does with the next request: answer with a status (and body), redirect, or hold it open. */
export type Behaviour = { status: number; body?: Buffer | string } | { redirect: string } | { hang: true };

/** A Distribution notification event, as receivers see it. */
export interface WireEvent {
  id: string;
  timestamp: string;
  action: string;
  target: Record<string, unknown>;
  request: Record<string, unknown>;
  actor: Record<string, unknown>;
  source: Record<string, unknown>;
}

/**
 * A real webhook receiver on loopback. By default it accepts (202); `failFirst`
 * makes the next N requests fail with 503 first, `behave` decides each answer.
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  private failing = 0;
  private decide: (n: number) => Behaviour = () => ({ status: 202 });
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly hanging = new Set<http.ServerResponse>();
  url = '';

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as { port: number }).port}`;
    return r;
  }

  failFirst(n: number): void {
    this.failing = n;
  }

  behave(decide: (n: number) => Behaviour): void {
    this.decide = decide;
  }

  /** Requests held open right now. */
  get open(): number {
    return this.hanging.size;
  }

  /** Events of the accepted (2xx) deliveries, in the order they arrived. */
  events(): WireEvent[] {
    return this.deliveries.filter((d) => d.status < 300).flatMap((d) => (JSON.parse(d.body.toString()) as { events: WireEvent[] }).events);
  }

  /** Waits until `n` events were accepted (or fails after `ms`). */
  async waitForEvents(n: number, ms = 20_000): Promise<WireEvent[]> {
    const deadline = Date.now() + ms;
    while (this.events().length < n) {
      if (Date.now() > deadline) throw new Error(`receiver got ${this.events().length} of ${n} events in ${ms} ms (${this.deliveries.length} deliveries)`);
      await sleep(50);
    }
    return this.events();
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const n = this.deliveries.length;
    const b: Behaviour = this.failing > 0 ? (this.failing--, { status: 503, body: 'not yet' }) : this.decide(n);
    const delivery: Delivery = { headers: req.headers, body: Buffer.concat(chunks), path: req.url ?? '', status: 0 };
    this.deliveries.push(delivery);
    if ('hang' in b) {
      delivery.status = -1;
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if ('redirect' in b) {
      delivery.status = 307;
      res.writeHead(307, { location: b.redirect }).end();
      return;
    }
    delivery.status = b.status;
    res.writeHead(b.status, { 'content-type': 'text/plain' }).end(b.body ?? '');
  }
}
