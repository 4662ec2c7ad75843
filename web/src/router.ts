import { useEffect, useState } from 'preact/hooks';

/** The UI's places, kept in the URL's fragment so any prefix works and reloads land where they were. */
export type Route =
  | { page: 'repositories'; params: URLSearchParams }
  | { page: 'repository'; repo: string; params: URLSearchParams }
  | { page: 'history'; repo: string; params: URLSearchParams }
  | { page: 'image'; repo: string; digest: string; params: URLSearchParams }
  | { page: 'storage'; params: URLSearchParams }
  | { page: 'operations'; params: URLSearchParams }
  | { page: 'login'; params: URLSearchParams }
  | { page: 'missing'; params: URLSearchParams };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (path === '/' || path === '') return { page: 'repositories', params };
  if (path === '/storage') return { page: 'storage', params };
  if (path === '/operations') return { page: 'operations', params };
  if (path === '/login') return { page: 'login', params };
  const m = /^\/r\/([^@~]+?)(?:@([a-z0-9]+:[a-f0-9]+)|(~history))?$/.exec(path);
  if (!m) return { page: 'missing', params };
  const repo = m[1]!;
  if (m[2]) return { page: 'image', repo, digest: m[2], params };
  if (m[3]) return { page: 'history', repo, params };
  return { page: 'repository', repo, params };
}

export const href = {
  repositories: (params?: Record<string, string>) => `#/${params && Object.keys(params).length ? `?${new URLSearchParams(params).toString()}` : ''}`,
  repository: (repo: string) => `#/r/${repo}`,
  history: (repo: string, tag?: string) => `#/r/${repo}~history${tag ? `?tag=${encodeURIComponent(tag)}` : ''}`,
  image: (repo: string, digest: string) => `#/r/${repo}@${digest}`,
  storage: (params?: URLSearchParams) => `#/storage${params && [...params].length ? `?${params.toString()}` : ''}`,
  operations: () => '#/operations',
  login: (back?: string) => `#/login${back ? `?back=${encodeURIComponent(back)}` : ''}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
