import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import type { EndpointConfig } from '../config/notifications.js';
import { undici } from '../util/undici.js';
import type { OutboxEntry } from './event-record.js';
import { render, signature, SIGNATURE_HEADER } from './formats.js';

/** Bytes of a receiver's answer read at most (for the error message); the rest is never read. */
const MAX_ANSWER = 4096;
/** Redirects followed at most, and only to the same scheme, host and port. */
const MAX_REDIRECTS = 3;
const USER_AGENT = 'berth-notifications/1';

/** A receiver said no, or could not be reached in time: the delivery is tried again later. */
export class DeliveryError extends Error {}

/**
 * Posts events to one endpoint. Every delivery ends within the endpoint's
 * timeout (connecting, sending and the answer together); an answer's body is
 * read only up to a few KiB, however much the receiver sends; a redirect is
 * followed only on the same origin (a receiver may not send the registry's
 * events, signature and headers elsewhere), and one elsewhere is a failure
 * that says where it pointed.
 */
export class Endpoint {
  private agent?: Agent;

  constructor(readonly config: EndpointConfig) {}

  async deliver(entry: OutboxEntry, abort: AbortSignal): Promise<void> {
    const { body, contentType } = render(this.config.format, entry);
    const headers: Record<string, string | string[]> = {
      ...this.config.headers,
      'content-type': contentType,
      'user-agent': USER_AGENT,
      'x-berth-delivery': randomUUID(),
    };
    if (this.config.secret) headers[SIGNATURE_HEADER.toLowerCase()] = signature(this.config.secret, body);
    const signal = AbortSignal.any([abort, AbortSignal.timeout(this.config.timeout)]);
    let url = new URL(this.config.url);
    for (let hop = 0; ; hop++) {
      const res = await this.post(url, headers, body, signal, abort);
      const answer = await readSome(res.body, MAX_ANSWER);
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      const location = header(res.headers, 'location');
      if (res.statusCode >= 300 && res.statusCode < 400 && location) {
        const next = new URL(location, url);
        if (next.origin !== url.origin) throw new DeliveryError(`${res.statusCode}: the receiver redirects to ${next.origin}, which is not followed; set the endpoint's url to the final address`);
        if (hop >= MAX_REDIRECTS) throw new DeliveryError(`more than ${MAX_REDIRECTS} redirects`);
        url = next;
        continue;
      }
      throw new DeliveryError(`the receiver answered ${res.statusCode}${answer ? `: ${answer}` : ''}`);
    }
  }

  private async post(url: URL, headers: Record<string, string | string[]>, body: Buffer, signal: AbortSignal, abort: AbortSignal): Promise<Dispatcher.ResponseData> {
    const { Agent, request } = await undici();
    const timeout = this.config.timeout;
    this.agent ??= new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: 4000 });
    try {
      return await request(url, { method: 'POST', headers, body, signal, dispatcher: this.agent, maxRedirections: 0 });
    } catch (e) {
      // Shutting down: not the receiver's failure (the job is given back).
      if (abort.aborted) throw e;
      const err = e as Error & { code?: string; cause?: { code?: string } };
      // The agent's own header and body timers are set to the same timeout and may fire first.
      if (signal.aborted || TIMED_OUT.has(err.code ?? err.cause?.code ?? '')) throw new DeliveryError(`no answer within ${this.config.timeout} ms`);
      throw new DeliveryError(`cannot reach ${url.origin}: ${err.cause?.code ?? err.code ?? err.message}`);
    }
  }

  async close(): Promise<void> {
    await this.agent?.destroy();
  }
}

/** Up to `max` bytes of a body as text (for people); the connection is dropped rather than drain a flood. */
async function readSome(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= max) break;
    }
  } catch {
    // An answer cut short says no less than its status.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 300);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
