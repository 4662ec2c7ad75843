import type { FastifyInstance } from 'fastify';
import type { UiConfig } from '../config/ui.js';
import type { Authorizer } from '../server/access.js';
import type { Logins } from '../server/auth/login.js';
import { registerAssets } from './assets.js';
import { SessionAuthorizer } from './session-authorizer.js';
import { registerSessionRoutes } from './session-routes.js';
import type { Sessions } from './sessions.js';

export interface UiOptions {
  config: UiConfig;
  /** Password checks of the registry's users; absent when there are none (no auth, or tokens from elsewhere only). */
  logins?: Logins;
  sessions?: Sessions;
  /** The registry serves HTTPS: the session cookie is then Secure. */
  tls: boolean;
}

/**
 * Mounts the web UI: its files under `ui.prefix` and its login sessions.
 * Returns the authorizer the `/berth/v1/` API must use so that the UI's
 * requests (a session cookie, or anonymous) are judged by the access rules.
 */
export function installUi(app: FastifyInstance, auth: Authorizer, ui: UiOptions): Authorizer {
  const apiAuth = new SessionAuthorizer(auth, ui.sessions);
  registerSessionRoutes(app, { auth: apiAuth, secure: ui.tls, ...(ui.logins ? { logins: ui.logins } : {}), ...(ui.sessions ? { sessions: ui.sessions } : {}) });
  registerAssets(app, ui.config.prefix);
  return apiAuth;
}
