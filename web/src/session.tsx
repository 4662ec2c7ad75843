import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface SessionInfo {
  user: string | null;
  csrf: string | null;
  /** The registry has users to log in as. */
  canLogin: boolean;
  /** May see registry-wide figures and operations (`usage` on every repository). */
  operator: boolean;
}

export interface SessionState extends SessionInfo {
  refresh(): Promise<void>;
  logout(): Promise<void>;
}

export const SessionContext = createContext<SessionState>({ user: null, csrf: null, canLogin: false, operator: false, refresh: async () => {}, logout: async () => {} });

export const useSession = (): SessionState => useContext(SessionContext);
