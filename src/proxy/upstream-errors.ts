import { AuthError } from '../client/token.js';
import { describeNetworkError, NetworkError } from '../client/http.js';
import { RegistryError, type ErrorCode } from '../oci/errors.js';

/** What an upstream answered, as far as an error needs it. */
export interface UpstreamAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The status a Berth answers with when it finds itself in its own upstream chain (see Upstream.via). */
export const LOOP_STATUS = 508;

const NOT_FOUND_CODES = new Set<ErrorCode>(['MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NAME_UNKNOWN']);

/**
 * An upstream's refusal as an OCI error of this registry that says which
 * upstream failed, how, and (for rate limits) until when. `who` names the
 * upstream (`docker.io (https://registry-1.docker.io)`), `what` the request.
 */
export async function translateAnswer(who: string, what: string, res: UpstreamAnswer): Promise<RegistryError> {
  const said = await upstreamMessage(res);
  const status = `HTTP ${res.status}${said.text ? `: ${said.text}` : ''}`;
  if (res.status === 404) {
    const code = said.code && NOT_FOUND_CODES.has(said.code as ErrorCode) ? (said.code as ErrorCode) : 'NAME_UNKNOWN';
    return new RegistryError(code, `${what} is not in upstream ${who} (${status})`);
  }
  if (res.status === 401 || res.status === 403) {
    return new RegistryError('DENIED', `upstream ${who} refused ${what} (${status}): it does not exist there, or the credentials this registry has for it (proxy.upstreams[].credentials) lack access`);
  }
  if (res.status === 429) return rateLimited(who, what, res, said.text);
  if (res.status === LOOP_STATUS) {
    return new RegistryError('UNAVAILABLE', `upstream ${who} leads back to this registry (a proxy loop): fix its url in proxy.upstreams`, { status: 502 });
  }
  if (res.status >= 500) return new RegistryError('UNAVAILABLE', `upstream ${who} failed ${what} (${status}); try again later`, { status: 503, headers: retryAfterHeader(res) });
  return new RegistryError('UNKNOWN', `upstream ${who} answered ${what} with ${status}`, { status: 502 });
}

/** A request that got no answer: the upstream is down, unreachable, unnamed in DNS, too slow, or redirects in circles. */
export function translateFailure(who: string, what: string, e: unknown): RegistryError {
  if (e instanceof RegistryError) return e;
  if (e instanceof AuthError) return new RegistryError('DENIED', `upstream ${who} would not let this registry ${what}: ${e.message}`);
  const cause = e instanceof NetworkError ? e.message : describeNetworkError(e);
  // Not an outage: the upstream answers, with a redirect to where it redirects from.
  if (/redirect count exceeded/.test(cause)) return new RegistryError('UNKNOWN', `upstream ${who} redirects in circles for ${what}; nothing was cached`, { status: 502 });
  const timedOut = /timeout|Timeout|ETIMEDOUT|UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT/.test(cause);
  return new RegistryError('UNAVAILABLE', `upstream ${who} cannot be reached for ${what}: ${cause}${timedOut ? ' (timed out; proxy.upstreams[].timeout)' : ''}`, {
    status: timedOut ? 504 : 503,
  });
}

function rateLimited(who: string, what: string, res: UpstreamAnswer, said: string): RegistryError {
  const waitMs = retryAfterMs(res.headers.get('retry-after')) ?? resetMs(res.headers.get('ratelimit-reset'));
  const until = waitMs === undefined ? '' : ` until ${new Date(Date.now() + waitMs).toISOString()}`;
  const limit = res.headers.get('ratelimit-limit');
  const remaining = res.headers.get('ratelimit-remaining');
  const quota = limit ? ` (RateLimit-Limit ${limit}${remaining ? `, RateLimit-Remaining ${remaining}` : ''})` : '';
  return new RegistryError('TOOMANYREQUESTS', `upstream ${who} is rate limiting this registry${until}${quota}${said ? `: ${said}` : ''}; ${what} is not cached yet`, {
    headers: { 'Retry-After': String(Math.ceil((waitMs ?? 60_000) / 1000)) },
  });
}

/** `Retry-After`, delta-seconds or an HTTP date; not capped, since "until when" is the point. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** `RateLimit-Reset` (IETF draft): seconds until the window resets, possibly with `;w=` parameters. */
function resetMs(value: string | null): number | undefined {
  const seconds = Number(value?.split(';', 1)[0]);
  return value && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function retryAfterHeader(res: UpstreamAnswer): Record<string, string> {
  const ms = retryAfterMs(res.headers.get('retry-after'));
  return ms === undefined ? {} : { 'Retry-After': String(Math.ceil(ms / 1000)) };
}

/** The OCI error body's first code and message, or the first line of whatever else came back. */
async function upstreamMessage(res: UpstreamAnswer): Promise<{ code?: string; text: string }> {
  const body = (await res.text().catch(() => '')).slice(0, 2000);
  try {
    const first = (JSON.parse(body) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    if (first) return { ...(first.code ? { code: first.code } : {}), text: [first.code, first.message].filter(Boolean).join(': ').slice(0, 300) };
  } catch {
    // not an OCI error body
  }
  return { text: body.split('\n', 1)[0]!.trim().slice(0, 200) };
}
