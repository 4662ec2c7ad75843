import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Response } from 'undici';
import { resentBytes } from '../client/blob-reader.js';
import { Http, NetworkError, type SendInit, type StreamedResponse } from '../client/http.js';
import { declaredMediaType, MANIFEST_ACCEPT, pullScope, RegistryClient } from '../client/registry.js';
import { remoteCredential, remoteHost } from '../config/remote.js';
import type { UpstreamConfig } from '../config/proxy.js';
import { algorithmOf, isDigest, makeDigest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { RegistryError } from '../oci/errors.js';
import { baseMediaType, MediaType } from '../oci/mediatypes.js';
import { readBounded } from '../registry/bounded-body.js';
import type { ByteBudget } from '../util/byte-budget.js';
import { translateAnswer, translateFailure } from './upstream-errors.js';

export interface UpstreamManifest {
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
}

/** Counts what is asked of an upstream, for `berth usage`. */
export interface UpstreamMeter {
  request(namespace: string): void;
  bytes(namespace: string, n: number): void;
}

/** How long an upstream that could not be reached is not asked again. */
const OUTAGE_PAUSE_MS = 2000;
/** How a connection that was reset reads in a NetworkError. */
const RESET = /ECONNRESET|UND_ERR_SOCKET|other side closed/;
/** A broken blob download is resumed with `Range` this many times before the fetch fails. */
const MAX_RESUMES = 3;

/**
 * One configured upstream registry, reached through `client/` (challenges,
 * tokens, the configured credential and TLS). Nothing is retried here: a
 * client waiting on the cache gets the upstream's answer, translated, at
 * once, and retries as it would against any registry. Every request carries
 * `Via` with this registry's hop name, so a chain that comes back here is
 * refused instead of looping.
 */
export class Upstream {
  readonly namespace: string;
  readonly tagTtlMs: number;
  /** For messages: `docker.io (https://registry-1.docker.io)`. */
  readonly who: string;
  private readonly http: Http;
  private readonly client: RegistryClient;
  private paused?: { until: number; error: RegistryError };

  constructor(
    config: UpstreamConfig,
    private readonly hop: string,
    private readonly meter: UpstreamMeter,
  ) {
    this.namespace = config.namespace;
    this.tagTtlMs = config.tagTtl;
    this.who = `${config.namespace} (${config.url.replace(/\/$/, '')})`;
    this.http = new Http({ retries: 0, timeoutMs: config.timeout, skipTlsVerify: config.tls.insecure, ...(config.tls.ca ? { caFile: config.tls.ca } : {}) });
    this.client = new RegistryClient(remoteHost(config), { http: this.http, baseUrl: config.url.replace(/\/$/, ''), credential: remoteCredential(config) });
  }

  /** The digest a tag points at upstream, by HEAD (which Docker Hub does not count against its pull limit); undefined when the upstream does not say. */
  async resolveTag(remote: string, tag: string, via: string | undefined): Promise<{ digest?: Digest }> {
    const what = `manifest ${remote}:${tag}`;
    const res = await this.send(`/v2/${remote}/manifests/${tag}`, remote, what, via, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } });
    await res.body?.cancel();
    const digest = res.headers.get('docker-content-digest');
    return digest && isDigest(digest) ? { digest } : {};
  }

  /**
   * A manifest's bytes, at most `limit.maxBytes` of them and read in turns
   * with other big manifests (`limit.memory`), checked against the digest
   * asked for (or, by tag, against the digest the upstream names).
   */
  async manifest(remote: string, reference: string, limit: { maxBytes: number; memory: ByteBudget }, via: string | undefined): Promise<UpstreamManifest> {
    const { maxBytes } = limit;
    const what = `manifest ${remote}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.send(`/v2/${remote}/manifests/${reference}`, remote, what, via, { headers: { Accept: MANIFEST_ACCEPT } });
    const header = res.headers.get('content-length');
    const declared = header === null ? undefined : Number(header);
    const tooBig = () =>
      new RegistryError('MANIFEST_INVALID', `upstream ${this.who} serves ${what} larger than the ${maxBytes} bytes this registry holds a manifest to (limits.maxManifestSize); nothing was cached`, { status: 502 });
    if (declared !== undefined && declared > maxBytes) {
      await res.body?.cancel();
      throw tooBig();
    }
    let bytes: Buffer;
    try {
      bytes = await limit.memory.use(declared ?? maxBytes, () => readBounded(Readable.fromWeb(res.body!), declared, maxBytes, what));
    } catch (e) {
      throw e instanceof RegistryError && e.status === 413 ? tooBig() : translateFailure(this.who, `fetch ${what}`, e);
    }
    this.meter.bytes(this.namespace, bytes.length);
    const named = reference.includes(':') ? (reference as Digest) : res.headers.get('docker-content-digest');
    const alg = named && isDigest(named) ? algorithmOf(named) : 'sha256';
    const digest = makeDigest(alg, createHash(alg).update(bytes).digest('hex'));
    if (named && isDigest(named) && named !== digest) {
      throw new RegistryError('DIGEST_INVALID', `upstream ${this.who} served ${what} as bytes that hash to ${digest}, not ${named}; nothing was cached`, { status: 502 });
    }
    const mediaType = declaredMediaType(bytes) ?? baseMediaType(res.headers.get('content-type') ?? undefined) ?? MediaType.ociManifest;
    return { bytes, digest, mediaType };
  }

  /**
   * A blob's bytes as they arrive, resumed with `Range` when the connection
   * breaks. Exactly `desc.size` bytes or an error: whether they hash to the
   * digest is for the caller, which hashes while it stores them.
   */
  async *blob(remote: string, desc: Descriptor, via: string | undefined): AsyncGenerator<Buffer> {
    const what = `blob ${desc.digest} of ${remote}`;
    let offset = 0;
    for (let resumes = 0; ; resumes++) {
      const res = await this.send(`/v2/${remote}/blobs/${desc.digest}`, remote, what, via, offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {}, 'stream');
      const resent = resentBytes(offset, res.status);
      try {
        for await (const piece of res.body as AsyncIterable<Buffer>) {
          const chunk = resent.rest(piece);
          if (chunk.length === 0) continue;
          offset += chunk.length;
          if (offset > desc.size) throw new RegistryError('SIZE_INVALID', `upstream ${this.who} sent more than the ${desc.size} bytes of ${what}; nothing was cached`, { status: 502 });
          this.meter.bytes(this.namespace, chunk.length);
          yield chunk;
        }
      } catch (e) {
        if (e instanceof RegistryError || resumes >= MAX_RESUMES) throw translateFailure(this.who, `fetch ${what}`, e);
        continue;
      }
      if (offset === desc.size) return;
      if (resumes >= MAX_RESUMES) throw new RegistryError('UNAVAILABLE', `upstream ${this.who} kept ending ${what} early (${offset} of ${desc.size} bytes); nothing was cached`, { status: 502 });
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /**
   * One request, counted; anything but a 2xx becomes this registry's error
   * naming the upstream. After a rate limit or an outage the upstream is left
   * alone for a while (see pause): every waiting client asking again would
   * only prolong a rate limit, and a dead upstream answers the same way twice.
   */
  private send(path: string, remote: string, what: string, via: string | undefined, init: SendInit): Promise<Response>;
  private send(path: string, remote: string, what: string, via: string | undefined, init: SendInit, body: 'stream'): Promise<StreamedResponse>;
  private async send(path: string, remote: string, what: string, via: string | undefined, init: SendInit, body?: 'stream'): Promise<Response | StreamedResponse> {
    if (this.paused && Date.now() < this.paused.until) throw this.paused.error;
    const request = { ...init, scopes: [pullScope(remote)], retry: false, headers: { ...init.headers, Via: this.via(via) } };
    let res: Response | StreamedResponse | undefined;
    for (let attempt = 0; !res; attempt++) {
      this.meter.request(this.namespace);
      try {
        res = body === 'stream' ? await this.client.stream(path, request) : await this.client.request(path, request);
      } catch (e) {
        // A kept-alive connection the upstream closed just as it was reused: not an outage, and a GET or HEAD may go again at once (as Go's net/http does).
        if (attempt === 0 && e instanceof NetworkError && RESET.test(e.message)) continue;
        throw this.pause(translateFailure(this.who, `fetch ${what}`, e));
      }
    }
    if (res.ok) return res;
    const answer = 'text' in res ? res : { status: res.status, headers: res.headers, text: () => res.body.text() };
    throw this.pause(await translateAnswer(this.who, what, answer));
  }

  /** Remembers a rate limit until it lifts, and an outage for a moment; other refusals are answers, not outages. */
  private pause(error: RegistryError): RegistryError {
    const ms = error.code === 'TOOMANYREQUESTS' ? Number(error.headers['Retry-After']) * 1000 : error.code === 'UNAVAILABLE' ? OUTAGE_PAUSE_MS : 0;
    if (ms > 0) this.paused = { until: Date.now() + ms, error };
    return error;
  }

  /** The request's own `Via` chain with this hop added; a chain too long to be anything but a loop is cut. */
  private via(incoming: string | undefined): string {
    const hops = (incoming ?? '').split(',').map((h) => h.trim()).filter(Boolean).slice(-MAX_HOPS);
    return [...hops, `1.1 ${this.hop}`].join(', ');
  }
}

/** Hops kept from an incoming `Via`: enough for caches in front of caches, too few to grow without bound. */
const MAX_HOPS = 8;

/** Whether a `Via` chain already passed through `hop`: the request came back to the registry that sent it. */
export const viaIncludes = (via: string | undefined, hop: string): boolean => (via ?? '').split(',').some((h) => h.trim().split(/\s+/)[1] === hop);
