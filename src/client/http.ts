import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher, Headers, Response } from 'undici';
import { undici } from '../util/undici.js';
import { NetworkError } from './errors.js';

export { NetworkError };

export interface HttpOptions {
  /** Extra CA certificates (PEM), on top of the system roots; `SSL_CERT_FILE` is honoured too. */
  caFile?: string;
  /** Skip certificate verification (`--insecure`, as docker does for insecure registries). */
  skipTlsVerify?: boolean;
  /** How many times a failed request is tried again (5xx, 429, connection errors). */
  retries?: number;
  /** Told before each retry or resume; the CLI shows it so a slow pull is not a silent one. */
  onNotice?: (message: string) => void;
  /** Limit on connecting, on waiting for response headers, and on a body's quiet stretches (defaults: 10 s, 120 s, 300 s). */
  timeoutMs?: number;
}

export interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  /** Only re-sendable bodies: a retry sends the same bytes again. */
  body?: Buffer | string;
  /** Off for requests that are not safe to repeat blindly. */
  retry?: boolean;
}

/**
 * An answer whose body is a Node stream (undici's `request`): what big bodies
 * are read through. The same bytes through `fetch` arrive as a web stream, at
 * about twice the CPU per byte (bench/proxy.ts, docs/BENCHMARKS.md).
 */
export interface StreamedResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  body: Dispatcher.ResponseData['body'];
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** As many redirects as `fetch` follows; more are a loop, and fail as fetch's do. */
const MAX_REDIRECTS = 20;
const MAX_DELAY_MS = 30_000;
/** A name that does not resolve will not resolve on the next try either (EAI_AGAIN too: no resolver is reachable). */
const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

export const isRetryableStatus = (status: number): boolean => RETRY_STATUS.has(status);

/** HTTP with retries and backoff that honours Retry-After. Knows nothing about registries. */
export class Http {
  private dispatcher?: Agent;
  private readonly retries: number;
  /** Read at construction, so a missing CA file fails there and not at the first request. */
  private readonly extraCas: string[];

  constructor(private readonly opts: HttpOptions = {}) {
    this.retries = opts.retries ?? Number(process.env.BERTH_RETRIES ?? 4);
    this.extraCas = [opts.caFile, process.env.SSL_CERT_FILE].filter((f): f is string => !!f).map((f) => readFileSync(f, 'utf8'));
  }

  private async agent(): Promise<Agent> {
    const { Agent } = await undici();
    return (this.dispatcher ??= new Agent({
      connect: {
        ...(this.extraCas.length > 0 ? { ca: [...rootCertificates, ...this.extraCas] } : {}),
        ...(this.opts.skipTlsVerify ? { rejectUnauthorized: false } : {}),
        timeout: this.opts.timeoutMs ?? 10_000,
      },
      // Big blobs stream slowly through small pipes; do not give up on a quiet body too early.
      bodyTimeout: this.opts.timeoutMs ?? 300_000,
      headersTimeout: this.opts.timeoutMs ?? 120_000,
    }));
  }

  send(url: string, init: SendInit = {}): Promise<Response> {
    const sent = async () => {
      const dispatcher = await this.agent();
      const { fetch } = await undici();
      return fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, dispatcher, redirect: 'follow' });
    };
    return this.retrying(url, init, sent, (res) => res.body?.cancel());
  }

  /** As `send`, with the body as a Node stream: for blobs. */
  stream(url: string, init: SendInit = {}): Promise<StreamedResponse> {
    const sent = async (): Promise<StreamedResponse> => {
      const dispatcher = await this.agent();
      const { request, Headers } = await undici();
      const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body, dispatcher, maxRedirections: MAX_REDIRECTS });
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
      if (res.statusCode >= 300 && res.statusCode < 400 && headers.has('location')) {
        // dump, not destroy: undici makes a destroyed unread body emit an error nobody listens for, and the process dies.
        await res.body.dump();
        throw new Error('redirect count exceeded');
      }
      return { status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, headers, body: res.body };
    };
    return this.retrying(url, init, sent, (res) => res.body.dump());
  }

  /** Tries again after connection errors and `RETRY_STATUS` answers, as `init.retry` and the options allow; `discard` drops an answer's body. */
  private async retrying<R extends { status: number; headers: Headers }>(url: string, init: SendInit, sent: () => Promise<R>, discard: (res: R) => Promise<unknown> | undefined): Promise<R> {
    const attempts = init.retry === false ? 1 : this.retries + 1;
    for (let attempt = 1; ; attempt++) {
      let res: R;
      try {
        res = await sent();
      } catch (e) {
        if (attempt >= attempts || DNS_FAILURES.has(describeNetworkError(e))) throw networkError(url, e);
        await this.pause(`${describeNetworkError(e)} from ${new URL(url).host}`, backoff(attempt));
        continue;
      }
      if (!RETRY_STATUS.has(res.status) || attempt >= attempts) return res;
      const delay = retryAfter(res.headers.get('retry-after')) ?? backoff(attempt);
      await discard(res);
      await this.pause(`HTTP ${res.status} from ${new URL(url).host}`, delay);
    }
  }

  private async pause(why: string, delayMs: number): Promise<void> {
    this.notify(`${why}; retrying in ${(delayMs / 1000).toFixed(1)}s`);
    await sleep(delayMs);
  }

  notify(message: string): void {
    this.opts.onNotice?.(message);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

const backoff = (attempt: number): number => Math.min(MAX_DELAY_MS, 200 * 2 ** (attempt - 1) + Math.floor(Math.random() * 100));

/** Retry-After is either delta-seconds or an HTTP date. */
export function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_DELAY_MS, Math.max(0, ms)) : undefined;
}

/** The system or undici code of a failed request: `fetch` wraps it as the cause, `request` throws it as is. */
export function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const own = (e as { code?: unknown }).code;
  return cause?.code ?? cause?.message ?? (typeof own === 'string' && NETWORK_CODE.test(own) ? own : (e as Error).message);
}

const NETWORK_CODE = /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/;

/** The server speaks TLS but its certificate is not trusted: plain HTTP would not help. */
export const isCertificateError = (e: unknown): boolean => /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(describeNetworkError(e));

function networkError(url: string, e: unknown): NetworkError {
  const { origin, hostname } = new URL(url);
  const code = describeNetworkError(e);
  if (DNS_FAILURES.has(code)) return new NetworkError(`cannot reach ${origin}: the host name ${hostname} does not resolve (${code}); check the name and your network or DNS`);
  const hint = isCertificateError(e) ? ' (trust its CA with --ca-file, or skip verification with --insecure)' : '';
  return new NetworkError(`cannot reach ${origin}: ${code}${hint}`);
}
