/** The JSON API under /berth/v1/, as the UI calls it: marked as the UI's, with the session's CSRF token on changes. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export interface Page<T> {
  value: T;
  /** The path of the next page, from the Link header. */
  next?: string;
}

export async function apiPage<T>(path: string, init: RequestInit = {}): Promise<Page<T>> {
  const method = init.method ?? 'GET';
  const headers = new Headers(init.headers);
  headers.set('X-Berth-UI', '1');
  headers.set('Accept', 'application/json');
  if (method !== 'GET') headers.set('X-CSRF-Token', csrfToken ?? 'anonymous');
  const r = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  const text = await r.text();
  if (!r.ok) throw errorOf(r.status, text);
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
  const value = JSON.parse(text) as T;
  return next ? { value, next } : { value };
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await apiPage<T>(path, init)).value;
}

/** A manifest's bytes as stored, for the raw view. */
export async function apiText(path: string): Promise<string> {
  const r = await fetch(path, { headers: { 'X-Berth-UI': '1' }, credentials: 'same-origin' });
  const text = await r.text();
  if (!r.ok) throw errorOf(r.status, text);
  return text;
}

function errorOf(status: number, text: string): ApiError {
  try {
    const e = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]!;
    return new ApiError(status, e.code, e.message);
  } catch {
    return new ApiError(status, 'UNKNOWN', `the registry answered ${status}`);
  }
}

/** `/berth/v1/repositories/team/app/...`: names keep their slashes, other parts are escaped. */
export const repoPath = (repo: string, ...rest: string[]): string => `/berth/v1/repositories/${repo}${rest.map((r) => `/${encodeURIComponent(r)}`).join('')}`;
