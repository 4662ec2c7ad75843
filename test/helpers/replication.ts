import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuleStatus } from '../../src/replication/replication.js';
import type http from 'node:http';
import { forward, LoopbackProxy } from './proxy.js';

/** `GET /berth/v1/replication`, one rule of it. */
export async function ruleStatus(server: { url: string }, name: string, headers: Record<string, string> = {}): Promise<RuleStatus> {
  const res = await fetch(`${server.url}/berth/v1/replication`, { headers });
  if (res.status !== 200) throw new Error(`replication status answered ${res.status}: ${await res.text()}`);
  const rule = ((await res.json()) as { rules: RuleStatus[] }).rules.find((r) => r.name === name);
  if (!rule) throw new Error(`no rule ${name} in the status`);
  return rule;
}

const ACCEPT = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

/** Where `repo:tag` points on a registry (a HEAD, as clients resolve tags), or undefined when it is not there. */
export async function tagDigest(registry: { url: string }, repo: string, tag: string, headers: Record<string, string> = {}, attempts = 1): Promise<string | undefined> {
  let res = await headManifest(registry, repo, tag, headers);
  for (let tries = 1; res.status === 500 && tries < attempts; tries++) {
    await sleep(50);
    res = await headManifest(registry, repo, tag, headers);
  }
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`HEAD ${repo}:${tag} answered ${res.status}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/**
 * `tagDigest` on CNCF Distribution. It answers 500 to a few HEADs of a tag
 * while a push re-points that tag (measured: 85 of 2,883 HEADs while one tag
 * moved 400 times; Berth under the same load: 0 of 4,596), so polling it
 * through a move retries a 500 a few times before calling it a failure.
 */
export function distributionTagDigest(registry: { url: string }, repo: string, tag: string, headers: Record<string, string>): Promise<string | undefined> {
  return tagDigest(registry, repo, tag, headers, 5);
}

function headManifest(registry: { url: string }, repo: string, reference: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: ACCEPT, ...headers } });
}

/**
 * A loopback registry front that passes requests on, or holds every
 * manifest PUT (the last step of a copy) unanswered, or answers 503 to
 * everything: a target that is mid-copy, or failing forever.
 */
export class TargetFront extends LoopbackProxy {
  mode: 'pass' | 'hold' | 'fail' = 'pass';
  /** Manifest PUTs held so far. */
  held = 0;
  private readonly waiting: http.ServerResponse[] = [];

  constructor(private readonly upstream: string) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Cuts the held requests off unanswered (their sender was killed) and passes everything from now on. */
  dropHeld(): void {
    this.mode = 'pass';
    for (const res of this.waiting.splice(0)) res.destroy();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.mode === 'fail') {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"the registry is down for maintenance"}]}');
      return;
    }
    const pass = () => forward(req, this.upstream, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    }).on('error', () => res.destroy());
    if (this.mode === 'hold' && req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) {
      this.held++;
      this.waiting.push(res);
      return;
    }
    pass();
  }
}

/** A docker config.json with `user`'s login for `host`, as `docker login` writes it; returns its path. */
export function dockerLogin(dockerConfigDir: string, host: string, user: string, password: string): string {
  mkdirSync(dockerConfigDir, { recursive: true });
  const file = join(dockerConfigDir, 'config.json');
  const auths = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, unknown> }).auths : {};
  writeFileSync(file, JSON.stringify({ auths: { ...auths, [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return file;
}
