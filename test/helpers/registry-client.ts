import http from 'node:http';
import type { Blob } from './oci.js';

/** A thin raw-HTTP client for the Distribution API, so tests assert on status codes and headers. */
export class Raw {
  constructor(readonly base: string) {}

  fetch(path: string, init: Omit<RequestInit, 'body'> & { body?: Buffer | string } = {}): Promise<Response> {
    return fetch(new URL(path, this.base), { redirect: 'manual', ...init, body: init.body as BodyInit | undefined });
  }

  async pushBlob(repo: string, b: Blob): Promise<Response> {
    return this.fetch(`/v2/${repo}/blobs/uploads/?digest=${b.digest}`, {
      method: 'POST',
      body: b.bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
  }

  async pushManifest(repo: string, ref: string, m: Blob, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<Response> {
    return this.fetch(`/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: m.bytes, headers: { 'Content-Type': mediaType } });
  }

  /** Pushes blobs then the manifest; throws unless every step succeeded. */
  async pushImage(repo: string, ref: string, blobs: Blob[], manifest: Blob, mediaType?: string): Promise<void> {
    for (const b of blobs) {
      const r = await this.pushBlob(repo, b);
      if (r.status !== 201) throw new Error(`blob push ${b.digest} -> ${r.status} ${await r.text()}`);
    }
    const r = await this.pushManifest(repo, ref, manifest, mediaType);
    if (r.status !== 201) throw new Error(`manifest push -> ${r.status} ${await r.text()}`);
  }

  async startUpload(repo: string): Promise<string> {
    const r = await this.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (r.status !== 202) throw new Error(`start upload -> ${r.status}`);
    return r.headers.get('location')!;
  }
}

export async function errorCode(r: Response): Promise<string | undefined> {
  const body = (await r.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

/** Sends `path` verbatim (fetch would normalise `..` segments away, hiding what an attacker can send). */
export function rawRequest(base: string, method: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request sent from a chosen loopback address (127.0.0.0/8 all reach the server), as from another client machine. */
export function requestFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    // A test must fail, not hang, when the server never answers.
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url} in 60 s`)));
    req.on('error', reject);
    req.end();
  });
}
