import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { usePage } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

export function LoginPage({ back }: { back: string | null }) {
  usePage('Log in');
  const session = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('/berth/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
      await session.refresh();
      location.hash = back && back.startsWith('#/') && !back.startsWith('#/login') ? back : href.repositories();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };
  if (!session.canLogin) {
    return (
      <div class="page narrow">
        <h1 tabIndex={-1}>Log in</h1>
        <p>This registry has no accounts to log in with here. Everything you may see is shown without logging in.</p>
      </div>
    );
  }
  return (
    <div class="page narrow">
      <h1 tabIndex={-1}>Log in</h1>
      <p class="lead">Use the account you log in to this registry with (docker login, podman login).</p>
      <form class="login" onSubmit={submit}>
        <label for="login-user">Username</label>
        <input id="login-user" name="username" autoComplete="username" required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
        {error ? (
          <p class="note error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}
