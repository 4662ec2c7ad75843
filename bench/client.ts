import { createHash } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';

/** A lean keep-alive registry client for the push/pull scenarios: just the requests, no retries, no auth. */
export class BenchClient {
  private readonly pool: Pool;

  constructor(readonly origin: string, connections = 64) {
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, bodyTimeout: 0, headersTimeout: 0 });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async call(method: Dispatcher.HttpMethod, path: string, expect: number[], opts: { body?: Buffer | string; headers?: Record<string, string> } = {}) {
    const res = await this.pool.request({ method, path, body: opts.body, headers: opts.headers });
    await res.body.dump();
    if (!expect.includes(res.statusCode)) throw new Error(`${method} ${path}: HTTP ${res.statusCode}`);
    return res;
  }

  /** Location header as a path relative to the origin (Distribution answers absolute URLs). */
  private location(res: Dispatcher.ResponseData): string {
    const loc = res.headers.location;
    if (typeof loc !== 'string') throw new Error('upload response without Location');
    const u = new URL(loc, this.origin);
    return u.pathname + u.search;
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.call('HEAD', `/v2/${repo}/blobs/${digest}`, [200, 404]);
    return res.statusCode === 200;
  }

  private async startUpload(repo: string): Promise<string> {
    return this.location(await this.call('POST', `/v2/${repo}/blobs/uploads/`, [202]));
  }

  /** `POST` then one `PUT ?digest=` with the whole body. */
  async pushMonolithic(repo: string, digest: string, bytes: Buffer): Promise<void> {
    const loc = await this.startUpload(repo);
    await this.call('PUT', withDigest(loc, digest), [201], { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  }

  /** `POST`, one `PATCH` per chunk with Content-Range, then an empty `PUT ?digest=`. */
  async pushChunked(repo: string, digest: string, bytes: Buffer, chunkSize: number): Promise<void> {
    let loc = await this.startUpload(repo);
    for (let start = 0; start < bytes.length; start += chunkSize) {
      const chunk = bytes.subarray(start, Math.min(start + chunkSize, bytes.length));
      const res = await this.call('PATCH', loc, [202], {
        body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
      });
      loc = this.location(res);
    }
    await this.call('PUT', withDigest(loc, digest), [201]);
  }

  async putManifest(repo: string, ref: string, manifest: Buffer, mediaType: string): Promise<void> {
    await this.call('PUT', `/v2/${repo}/manifests/${ref}`, [201], { body: manifest, headers: { 'content-type': mediaType } });
  }

  /** Every page path of `/v2/_catalog?n=` as the server links them, with the repository count. */
  async catalogPages(n: number): Promise<{ pages: string[]; repositories: number }> {
    const pages: string[] = [];
    let repositories = 0;
    let path: string | undefined = `/v2/_catalog?n=${n}`;
    while (path) {
      pages.push(path);
      const res: Dispatcher.ResponseData = await this.pool.request({ method: 'GET', path });
      const body = (await res.body.json()) as { repositories?: string[] };
      repositories += body.repositories?.length ?? 0;
      const link = res.headers.link;
      const m = typeof link === 'string' ? /<([^>]+)>/.exec(link) : null;
      path = m ? new URL(m[1]!, this.origin).pathname + new URL(m[1]!, this.origin).search : undefined;
    }
    return { pages, repositories };
  }
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Runs `task(i)` for i in [0, count) with at most `parallel` in flight. */
export async function inParallel(count: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}
