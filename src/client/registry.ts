import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Response } from 'undici';
import { algorithmOf, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MediaType, baseMediaType } from '../oci/mediatypes.js';
import { apiHost, isLoopbackRegistry, withIdentifier } from '../oci/reference.js';
import { parseChallenge, type Challenge } from './challenge.js';
import { getCredential, type Credential } from './credentials.js';
import { DigestMismatchError, RemoteError, remoteError, TagDeleteUnsupportedError } from './errors.js';
import { isCertificateError, type Http, type SendInit, type StreamedResponse } from './http.js';
import { AuthError, TokenCache, basicAuth, fetchToken, loginsRefused, type Token } from './token.js';
import { readVerified } from './blob-reader.js';
import { uploadBlob, uploadOffset, type UploadProgress } from './upload.js';
import type { UploadSessions } from './upload-sessions.js';

export interface ClientOptions {
  http: Http;
  /** Allow plain HTTP for a non-loopback registry (loopback always may, as with docker). */
  insecure?: boolean;
  /** Defaults to docker's config.json / helpers / podman auth.json; null: always anonymous. */
  credential?: Credential | null;
  /** The API's origin when it is known (`https://registry-1.docker.io`): no scheme discovery. */
  baseUrl?: string;
  /** Remembers unfinished uploads, so the next push of a blob resumes one. */
  sessions?: UploadSessions;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export const pullScope = (repo: string): string => `repository:${repo}:pull`;
export const pushScope = (repo: string): string => `repository:${repo}:pull,push`;

interface RequestInit {
  method?: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | string;
  retry?: boolean;
}

/** A client for one registry: scheme discovery, auth challenges, tokens per scope. */
export class RegistryClient {
  private base?: Promise<string>;
  private challenge?: Challenge;
  private credential?: Promise<Credential | undefined>;
  private readonly tokens = new TokenCache();
  private readonly pendingTokens = new Map<string, Promise<Token>>();

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions,
  ) {}

  get http(): Http {
    return this.opts.http;
  }

  /** https, or plain http for loopback/insecure registries that do not speak TLS (docker's fallback). */
  baseUrl(): Promise<string> {
    this.base ??= (async () => {
      if (this.opts.baseUrl) return this.opts.baseUrl;
      const host = apiHost(this.registry);
      if (!this.opts.insecure && !isLoopbackRegistry(this.registry)) return `https://${host}`;
      try {
        const res = await this.opts.http.send(`https://${host}/v2/`, { retry: false });
        await res.body?.cancel();
        return `https://${host}`;
      } catch (e) {
        return isCertificateError(e) ? `https://${host}` : `http://${host}`;
      }
    })();
    return this.base;
  }

  private getCredential(): Promise<Credential | undefined> {
    this.credential ??= this.opts.credential !== undefined ? Promise.resolve(this.opts.credential ?? undefined) : getCredential(this.registry);
    return this.credential;
  }

  /** Sends with whatever auth the registry asked for; on 401 learns the challenge and tries once more. */
  request(path: string, init: RequestInit): Promise<Response> {
    return this.authorized(path, init, (url, sendInit) => this.opts.http.send(url, sendInit), (res) => res.body?.cancel());
  }

  /** As `request`, with the body as a Node stream (Http.stream): for blobs. */
  stream(path: string, init: RequestInit): Promise<StreamedResponse> {
    return this.authorized(path, init, (url, sendInit) => this.opts.http.stream(url, sendInit), (res) => res.body.dump());
  }

  private async authorized<R extends { status: number; headers: { get(name: string): string | null } }>(
    path: string,
    init: RequestInit,
    sent: (url: string, init: SendInit) => Promise<R>,
    discard: (res: R) => Promise<unknown> | undefined,
  ): Promise<R> {
    const url = new URL(path, await this.baseUrl()).toString();
    const send = async () =>
      sent(url, {
        method: init.method ?? 'GET',
        headers: { ...init.headers, ...(await this.authHeader(init.scopes)) },
        body: init.body,
        retry: init.retry ?? true,
      });
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    await discard(res);
    if (!challenge) throw new AuthError(`${this.registry} requires authentication but sent no Basic or Bearer challenge`);
    this.challenge = challenge;
    if (challenge.scheme === 'bearer') {
      const scopes = union(init.scopes, challenge.params.scope);
      this.tokens.set(init.scopes, await this.newToken(challenge, scopes));
    } else if (!(await this.getCredential())) {
      throw this.notLoggedIn(undefined);
    }
    res = await send();
    if (res.status === 401) {
      const again = parseChallenge(res.headers.get('www-authenticate'));
      await discard(res);
      const signedIn = (await this.getCredential()) !== undefined;
      if (!signedIn) throw this.notLoggedIn(again?.params.scope);
      if (again?.params.error === 'insufficient_scope') throw this.denied(again.params.scope);
      throw new AuthError(`${this.registry} rejected the stored credentials; run \`berth login ${this.registry}\` again`);
    }
    return res;
  }

  /** Anonymous access did not do: logging in is the fix, and the message says how. */
  private notLoggedIn(scope: string | undefined): AuthError {
    const what = scope ? ` (${scope})` : '';
    return new AuthError(`${this.registry}: not logged in, and anonymous access is not allowed${what}; log in with \`berth login ${this.registry}\``);
  }

  /** Signed in, but the account may not do this: logging in again would not help. */
  private denied(scope: string | undefined): AuthError {
    const what = scope ? ` (${scope})` : '';
    return new AuthError(`${this.registry}: access denied${what}: the account you are logged in as lacks this permission; ask the registry's admin, or \`berth login ${this.registry}\` as another user`);
  }

  private async authHeader(scopes: string[]): Promise<Record<string, string>> {
    const c = this.challenge;
    if (!c) return {};
    if (c.scheme === 'basic') {
      const cred = await this.getCredential();
      return cred?.password !== undefined ? { Authorization: basicAuth(cred.username, cred.password) } : {};
    }
    const cached = this.tokens.get(scopes);
    if (cached) return { Authorization: `Bearer ${cached.token}` };
    // Parallel blob requests share one token request per scope set.
    const key = [...scopes].sort().join(' ');
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.newToken(c, scopes).finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    const token = await pending;
    this.tokens.set(scopes, token);
    return { Authorization: `Bearer ${token.token}` };
  }

  private async newToken(challenge: Challenge, scopes: string[], offline = false): Promise<Token> {
    return fetchToken(this.opts.http, challenge, scopes, await this.getCredential(), { offline });
  }

  /**
   * Checks credentials against `/v2/` the way `docker login` does. Returns an
   * identity token when the token service hands one out, to store instead of the password.
   */
  async login(): Promise<{ identityToken?: string }> {
    const url = new URL('/v2/', await this.baseUrl()).toString();
    const res = await this.opts.http.send(url);
    await res.body?.cancel();
    if (res.ok) return {};
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (res.status !== 401 || !challenge) throw await remoteError(res, `GET ${url}`);
    const cred = await this.getCredential();
    if (challenge.scheme === 'bearer') {
      const token = await fetchToken(this.opts.http, challenge, [], cred, { offline: true, retry: false });
      return token.refreshToken ? { identityToken: token.refreshToken } : {};
    }
    // A login is never retried: against a lockout each try would only extend it.
    const check = await this.opts.http.send(url, {
      retry: false,
      headers: cred?.password !== undefined ? { Authorization: basicAuth(cred.username, cred.password) } : {},
    });
    await check.body?.cancel();
    if (check.status === 429) throw loginsRefused(this.registry, check.headers.get('retry-after'));
    if (check.status === 401) throw new AuthError(`${this.registry} rejected the username or password`);
    if (!check.ok) throw await remoteError(check, `GET ${url}`);
    return {};
  }

  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, { scopes: [pullScope(repo)], headers: { Accept: MANIFEST_ACCEPT } });
    if (!res.ok) throw await remoteError(res, `manifest ${withIdentifier(`${this.registry}/${repo}`, reference)}`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_MANIFEST_BYTES) throw new RemoteError(`manifest ${withIdentifier(repo, reference)} is larger than 4 MiB`, res.status);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = digestOf(bytes, reference.includes(':') ? algorithmOf(reference as Digest) : 'sha256');
    if (reference.includes(':') && digest !== reference) {
      throw new DigestMismatchError(`manifest from ${this.registry}/${repo} hashes to ${digest}, not ${reference}`);
    }
    const mediaType = baseMediaType(res.headers.get('content-type') ?? undefined);
    return { bytes, digest, mediaType: declaredMediaType(bytes) ?? mediaType ?? MediaType.ociManifest };
  }

  /** The digest a tag points to, by HEAD (no body transferred). */
  async resolve(repo: string, reference: string): Promise<{ digest: Digest; mediaType: string; size: number } | undefined> {
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, { method: 'HEAD', scopes: [pullScope(repo)], headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status === 404) return undefined;
    if (!res.ok) throw await remoteError(res, `manifest ${withIdentifier(`${this.registry}/${repo}`, reference)}`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) return undefined;
    return { digest: digest as Digest, mediaType: baseMediaType(res.headers.get('content-type') ?? undefined) ?? '', size: Number(res.headers.get('content-length') ?? 0) };
  }

  async putManifest(repo: string, reference: string, m: FetchedManifest): Promise<Digest> {
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      scopes: [pushScope(repo)],
      headers: { 'Content-Type': m.mediaType },
      body: m.bytes,
    });
    if (res.status !== 201 && !res.ok) throw await remoteError(res, `push manifest ${withIdentifier(`${this.registry}/${repo}`, reference)}`);
    await res.body?.cancel();
    return m.digest;
  }

  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    return (await this.blobSize(repo, digest)) !== undefined;
  }

  /** The blob's length by HEAD, or undefined when the repository does not have it. */
  async blobSize(repo: string, digest: Digest): Promise<number | undefined> {
    const res = await this.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD', scopes: [pullScope(repo)] });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (!res.ok) throw await remoteError(res, `HEAD blob ${digest}`);
    return Number(res.headers.get('content-length') ?? 0);
  }

  /** A stream of the blob that resumes with Range after a broken connection and fails unless the digest matches (see readVerified for `start`). */
  openBlob(repo: string, desc: Descriptor, onBytes?: (n: number) => void, start = 0): Readable {
    return Readable.from(readVerified(this, repo, desc, onBytes, start), { objectMode: false });
  }

  /**
   * Tries cross-repository mounts from the repositories named, then a mount
   * without `from` (OCI 1.1: the registry looks in any repository the caller
   * may read; a registry that does not do that answers with an ordinary
   * upload session), then uploads into that session. Returns how the blob got there.
   */
  async pushBlob(repo: string, desc: Descriptor, data: () => Promise<Readable>, opts: { mountFrom?: string[]; onProgress?: UploadProgress } = {}): Promise<'mounted' | 'uploaded'> {
    for (const from of opts.mountFrom ?? []) {
      if (from === repo) continue;
      const res = await this.request(`/v2/${repo}/blobs/uploads/?mount=${desc.digest}&from=${encodeURIComponent(from)}`, {
        method: 'POST',
        scopes: [pushScope(repo), pullScope(from)],
      });
      await res.body?.cancel();
      if (res.status === 201) return 'mounted';
    }
    const resumed = await this.unfinishedUpload(repo, desc);
    let session = resumed?.session;
    if (!session) {
      const res = await this.request(`/v2/${repo}/blobs/uploads/?mount=${desc.digest}`, { method: 'POST', scopes: [pushScope(repo)] });
      if (res.status !== 201 && res.status !== 202) throw await remoteError(res, `start upload to ${this.registry}/${repo}`);
      await res.body?.cancel();
      if (res.status === 201) return 'mounted';
      session = res.headers.get('location') ?? undefined;
      if (!session) throw new RemoteError('the registry started an upload without a Location header', 202);
      await this.opts.sessions?.save(this.registry, repo, desc.digest, session);
    }
    await uploadBlob(this, repo, desc, await data(), { session, offset: resumed?.offset ?? 0, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    await this.opts.sessions?.forget(this.registry, repo, desc.digest);
    return 'uploaded';
  }

  /** An upload an earlier push left unfinished, and how far it got, if the registry still has it. */
  private async unfinishedUpload(repo: string, desc: Descriptor): Promise<{ session: string; offset: number } | undefined> {
    const session = await this.opts.sessions?.get(this.registry, repo, desc.digest);
    if (!session) return undefined;
    const offset = await uploadOffset(this, [pushScope(repo)], session).catch(() => undefined);
    if (offset === undefined || offset > desc.size) {
      await this.opts.sessions?.forget(this.registry, repo, desc.digest);
      return undefined;
    }
    this.http.notify(`resuming the upload of ${desc.digest.slice(0, 19)} at byte ${offset} (left by an earlier push)`);
    return { session, offset };
  }

  /**
   * Removes one tag and leaves the manifest and its other tags (OCI 1.1
   * `DELETE /manifests/<tag>`). A registry that deletes by digest only says
   * UNSUPPORTED or 405, or (Distribution 2.8) tries to read the tag as a
   * digest: DIGEST_INVALID. Then nothing was deleted.
   */
  async deleteTag(repo: string, tag: string): Promise<void> {
    const res = await this.request(`/v2/${repo}/manifests/${tag}`, { method: 'DELETE', scopes: [`repository:${repo}:delete`, pushScope(repo)] });
    if (res.status === 202 || res.ok) return void (await res.body?.cancel());
    const err = await remoteError(res, `delete tag ${this.registry}/${repo}:${tag}`);
    if (res.status === 405 || err.code === 'UNSUPPORTED' || err.code === 'DIGEST_INVALID') {
      throw new TagDeleteUnsupportedError(
        `${this.registry} does not delete a tag alone (it answered ${err.message.slice(err.message.indexOf('HTTP'))}); nothing was deleted. ` +
          `To delete the manifest with every tag on it: berth delete --manifest ${this.registry}/${repo}:${tag}`,
        res.status,
        err.code,
      );
    }
    throw err;
  }

  async deleteManifest(repo: string, digest: Digest): Promise<void> {
    const res = await this.request(`/v2/${repo}/manifests/${digest}`, { method: 'DELETE', scopes: [`repository:${repo}:delete`, pushScope(repo)] });
    if (res.status !== 202 && !res.ok) throw await remoteError(res, `delete ${this.registry}/${repo}@${digest}`);
    await res.body?.cancel();
  }

  async listTags(repo: string): Promise<string[]> {
    return collectPages(this.tagPages(repo));
  }

  /** The tags page by page, as the registry hands them out: a caller that prints as it goes holds one page. */
  tagPages(repo: string): AsyncGenerator<string[]> {
    return this.pages(`/v2/${repo}/tags/list?n=1000`, [pullScope(repo)], 'tags');
  }

  catalogPages(): AsyncGenerator<string[]> {
    return this.pages('/v2/_catalog?n=1000', ['registry:catalog:*'], 'repositories');
  }

  /** Follows `Link: <...>; rel="next"` until the list ends. */
  private async *pages(first: string, scopes: string[], field: 'tags' | 'repositories'): AsyncGenerator<string[]> {
    let next: string | undefined = first;
    while (next) {
      const res = await this.request(next, { scopes });
      if (!res.ok) throw await remoteError(res, `GET ${this.registry}${next.split('?')[0]}`);
      const body = (await res.json()) as Record<string, string[] | null>;
      yield body[field] ?? [];
      next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    }
  }
}

async function collectPages(pages: AsyncIterable<string[]>): Promise<string[]> {
  const out: string[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

export function digestOf(bytes: Buffer, alg: 'sha256' | 'sha512' = 'sha256'): Digest {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}` as Digest;
}

/** The `mediaType` a manifest's JSON declares, if any. */
export function declaredMediaType(bytes: Buffer): string | undefined {
  try {
    const m = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function union(scopes: string[], extra: string | undefined): string[] {
  const all = new Set(scopes);
  for (const s of extra?.split(' ') ?? []) if (s) all.add(s);
  return [...all];
}
