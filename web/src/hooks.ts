import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, apiPage, type Page } from './api.js';

export interface Loaded<T> {
  data?: T;
  next?: string;
  error?: ApiError;
  loading: boolean;
  reload(): void;
}

/** GETs `path` (null: nothing yet) and re-fetches when it changes; an older answer never overwrites a newer one. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ path?: string; page?: Page<T>; error?: ApiError; loading: boolean }>({ loading: path !== null });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let current = true;
    // A reload keeps showing what it has; another path (another repository) must not show the previous one's answer or error.
    setState((s) => (s.path === path ? { ...s, loading: true } : { path, loading: true }));
    apiPage<T>(path).then(
      (page) => current && setState({ path, page, loading: false }),
      (e: unknown) => current && setState({ path, error: e instanceof ApiError ? e : new ApiError(0, 'NETWORK', (e as Error).message), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.page?.value, next: state.page?.next, error: state.error, loading: state.loading, reload } as Loaded<T>;
}

/** Whether a page was shown already: the first one keeps the browser's own focus (the skip link comes first). */
let navigated = false;

/** The document title and, after a navigation, a focus move to the page heading, so screen readers announce the new page. */
export function usePage(title: string): void {
  useEffect(() => {
    document.title = `${title} · Berth registry`;
    if (navigated) document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
    navigated = true;
  }, [title]);
}
