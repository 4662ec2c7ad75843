import { render } from 'preact';
import type { FunctionComponent } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, setCsrf } from './api.js';
import { Loading } from './components/bits.js';
import { href, useRoute, type Route } from './router.js';
import { SessionContext, useSession, type SessionInfo, type SessionState } from './session.js';
import { applyTheme, initialTheme, type Theme } from './theme.js';
import { RepositoriesPage } from './pages/repositories.js';
import { RepositoryPage } from './pages/repository.js';
import { HistoryPage } from './pages/history.js';
import { ImagePage } from './pages/image.js';
import { LoginPage } from './pages/login.js';
import { OperationsPage } from './pages/operations.js';
import './styles.css';

/** Charts (and their library) load only when the storage page is opened. */
function LazyStorage({ params }: { params: URLSearchParams }) {
  const [Page, setPage] = useState<FunctionComponent<{ params: URLSearchParams }> | undefined>();
  useEffect(() => void import('./pages/storage.js').then((m) => setPage(() => m.StoragePage)), []);
  return Page ? <Page params={params} /> : <Loading what="the storage page" />;
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | undefined>();
  const refresh = useCallback(async () => {
    const s = await api<SessionInfo>('/berth/v1/session');
    setCsrf(s.csrf);
    setSession(s);
  }, []);
  const logout = useCallback(async () => {
    await api('/berth/v1/session', { method: 'DELETE' });
    await refresh();
    location.hash = href.repositories();
  }, [refresh]);
  useEffect(() => void refresh(), [refresh]);
  if (!session) return <Loading what="the registry" />;
  const state: SessionState = { ...session, refresh, logout };
  return (
    <SessionContext.Provider value={state}>
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Header route={route} />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
      <footer class="footer">
        <p>
          Berth registry at <code>{location.host}</code>. Scripts get the same data from <code>/berth/v1/</code>.
        </p>
      </footer>
    </SessionContext.Provider>
  );
}

function skipToMain(e: Event) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'repositories':
      return <RepositoriesPage params={route.params} />;
    case 'repository':
      return <RepositoryPage repo={route.repo} />;
    case 'history':
      return <HistoryPage repo={route.repo} tag={route.params.get('tag')} />;
    case 'image':
      return <ImagePage repo={route.repo} digest={route.digest} />;
    case 'storage':
      return <LazyStorage params={route.params} />;
    case 'operations':
      return <OperationsPage />;
    case 'login':
      return <LoginPage back={route.params.get('back')} />;
    case 'missing':
      return (
        <div class="page">
          <h1 tabIndex={-1}>No such page</h1>
          <p>
            <a href={href.repositories()}>Back to the repositories</a>
          </p>
        </div>
      );
  }
}

function Header({ route }: { route: Route }) {
  const session = useSession();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => applyTheme(theme, false), []);
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    setTheme(next);
    applyTheme(next, true);
  };
  const current = (page: Route['page'] | Route['page'][]) => ((Array.isArray(page) ? page : [page]).includes(route.page) ? 'page' : undefined);
  return (
    <header class="top">
      <a class="brand" href={href.repositories()}>
        <img src="./favicon.svg" alt="" width={24} height={24} />
        <span>Berth</span>
      </a>
      <nav aria-label="Main">
        <ul>
          <li>
            <a href={href.repositories()} aria-current={current(['repositories', 'repository', 'image', 'history'])}>
              Repositories
            </a>
          </li>
          <li>
            <a href={href.storage()} aria-current={current('storage')}>
              Storage
            </a>
          </li>
          {session.operator ? (
            <li>
              <a href={href.operations()} aria-current={current('operations')}>
                Operations
              </a>
            </li>
          ) : null}
        </ul>
      </nav>
      <div class="account">
        <button type="button" class="ghost" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        {session.user ? (
          <>
            <span class="who">
              Signed in as <strong>{session.user}</strong>
            </span>
            <button type="button" class="ghost" onClick={() => void session.logout()}>
              Log out
            </button>
          </>
        ) : session.canLogin ? (
          <a class="button" href={href.login(location.hash)}>
            Log in
          </a>
        ) : null}
      </div>
    </header>
  );
}

render(<App />, document.getElementById('app')!);
