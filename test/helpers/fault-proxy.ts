import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does instead of (or to) the upstream's answer. */
export type Fault =
  /** Answers this status itself, with an OCI error body (`Retry-After` and any other headers given). */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Passes the headers and half the body on, then cuts the connection. */
  | { kind: 'drop-mid-body' }
  /** Passes the answer on with one byte of the body changed: the length is right, the digest is not. */
  | { kind: 'corrupt-body' }
  /** Passes a manifest on as valid JSON with an annotation added (Content-Length fixed, the upstream's `Docker-Content-Digest` kept): well formed, but not the bytes of its digest. */
  | { kind: 'tamper-manifest' }
  /** Answers with a redirect to the same URL, forever. */
  | { kind: 'redirect-loop' }
  /** Passes the answer on after this long (so concurrent requests overlap). */
  | { kind: 'delay'; ms: number }
  /** Passes the headers and half the body on, sends nothing for this long, then the rest. */
  | { kind: 'pause-mid-body'; ms: number }
  /** Takes the request and never answers (a server that hangs, an OSD that is full). */
  | { kind: 'hang' };

interface Rule {
  /** Tested against `METHOD /path` (no query). */
  match: RegExp;
  fault: Fault;
  /** How many matching requests get the fault; then it is off. Unlimited when absent. */
  times?: number;
}

/**
 * A loopback HTTP proxy in front of a registry (or a bucket) that counts the `/v2/`
 * requests reaching it (per method and path) and injects faults on demand:
 * the upstream a pull-through cache sees, so tests can assert exactly what
 * the cache asked of it.
 */
export class FaultProxy {
  private readonly seen: { line: string; status?: number }[] = [];
  private readonly users = new Set<string>();
  private rules: Rule[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    let proxy!: FaultProxy;
    const server = http.createServer((req, res) => proxy.handle(req, res));
    proxy = new FaultProxy(server, new URL(target));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  inject(match: RegExp, fault: Fault, times?: number): void {
    this.rules.push({ match, fault, ...(times !== undefined ? { times } : {}) });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** `METHOD /path` of every `/v2/` request since the last reset, in order. */
  requests(): string[] {
    return this.seen.map((r) => r.line);
  }

  /** How many requests matched (and got `status`, when given: 200 leaves out the 401s that challenge a new client). */
  count(match: RegExp, status?: number): number {
    return this.seen.filter((r) => match.test(r.line) && (status === undefined || r.status === status)).length;
  }

  reset(): void {
    this.seen.length = 0;
  }

  /** Every username that came with Basic credentials (to the API or the token service): who the upstream saw. */
  basicUsers(): string[] {
    return [...this.users].sort();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const line = `${req.method} ${req.url!.split('?', 1)[0]}`;
    if (line.includes(' /v2/')) {
      const seen: { line: string; status?: number } = { line };
      this.seen.push(seen);
      res.on('finish', () => (seen.status = res.statusCode));
    }
    const basic = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '');
    if (basic) this.users.add(Buffer.from(basic[1]!, 'base64').toString().split(':', 1)[0]!);
    const rule = this.rules.find((r) => r.match.test(line) && (r.times === undefined || r.times > 0));
    if (rule?.times !== undefined) rule.times--;
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers });
      res.end(JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: `injected ${fault.status}` }] }));
      return;
    }
    if (fault?.kind === 'redirect-loop') {
      res.writeHead(307, { Location: `${this.url}${req.url}` }).end();
      return;
    }
    if (fault?.kind === 'hang') {
      req.resume();
      return;
    }
    if (fault?.kind === 'delay') {
      setTimeout(() => this.forward(req, res, undefined), fault.ms);
      return;
    }
    this.forward(req, res, fault);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, fault: Fault | undefined): void {
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (fault?.kind === 'tamper-manifest') return tamper(up, res);
        res.writeHead(up.statusCode!, up.headers);
        if (fault?.kind === 'drop-mid-body') return dropHalfway(up, res);
        if (fault?.kind === 'corrupt-body') return corrupt(up, res);
        if (fault?.kind === 'pause-mid-body') return pauseHalfway(up, res, fault.ms);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

function dropHalfway(up: http.IncomingMessage, res: http.ServerResponse): void {
  let left = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
  up.on('data', (chunk: Buffer) => {
    if (left <= 0) return;
    res.write(chunk.subarray(0, left));
    left -= chunk.length;
    if (left <= 0) {
      up.destroy();
      res.socket?.destroy();
    }
  });
}

function pauseHalfway(up: http.IncomingMessage, res: http.ServerResponse, ms: number): void {
  let left = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
  let paused: Promise<void> = Promise.resolve();
  up.on('data', (chunk: Buffer) => {
    if (left <= 0) return void res.write(chunk);
    res.write(chunk.subarray(0, left));
    const rest = chunk.subarray(left);
    left -= chunk.length;
    if (left > 0) return;
    up.pause();
    paused = new Promise((resume) =>
      setTimeout(() => {
        res.write(rest);
        up.resume();
        resume();
      }, ms),
    );
  });
  up.on('end', () => void paused.then(() => res.end()));
}

function corrupt(up: http.IncomingMessage, res: http.ServerResponse): void {
  let first = true;
  up.on('data', (chunk: Buffer) => {
    if (first && chunk.length > 0) {
      chunk = Buffer.from(chunk);
      chunk[0] = chunk[0]! ^ 0xff;
      first = false;
    }
    res.write(chunk);
  });
  up.on('end', () => res.end());
}

function tamper(up: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  up.on('data', (c: Buffer) => chunks.push(c));
  up.on('end', () => {
    const manifest = JSON.parse(Buffer.concat(chunks).toString()) as { annotations?: Record<string, string> };
    const body = Buffer.from(JSON.stringify({ ...manifest, annotations: { ...manifest.annotations, 'org.example.tampered': 'yes' } }));
    res.writeHead(up.statusCode!, { ...up.headers, 'content-length': String(body.length) });
    res.end(body);
  });
}
