import { getCredential, helperCredential, type Credential } from '../client/credentials.js';
import { Http } from '../client/http.js';
import { RegistryClient } from '../client/registry.js';
import type { RemoteConfig } from '../config/replication.js';

/** A job tries again itself (with backoff, across restarts): the client only rides out a blip. */
const REQUEST_RETRIES = 1;

/** The registry a rule talks to, as references name it: `host[:port]`. */
export const remoteHost = (remote: RemoteConfig): string => new URL(remote.url).host;

/**
 * A client for the rule's registry, with its credentials looked up now (a
 * helper or config file may have rotated them since the last job). The
 * caller closes `http`.
 */
export async function openRemote(remote: RemoteConfig): Promise<{ client: RegistryClient; http: Http }> {
  const registry = remoteHost(remote);
  const http = new Http({ retries: REQUEST_RETRIES, ...(remote.ca ? { caFile: remote.ca } : {}) });
  const credential = await credentialOf(remote, registry);
  const client = new RegistryClient(registry, { http, insecure: remote.url.startsWith('http:'), ...(credential ? { credential } : {}) });
  return { client, http };
}

/** What the rule names; without credentials the client falls back to the server's own docker login for that registry, as docker would. */
async function credentialOf(remote: RemoteConfig, registry: string): Promise<Credential | undefined> {
  const c = remote.credentials;
  if (!c) return undefined;
  if ('username' in c) return { username: c.username, password: c.password };
  const found = 'helper' in c ? await helperCredential(c.helper, registry) : await getCredential(registry, c.dockerConfig);
  if (!found) throw new Error(`no credentials for ${registry} in ${'helper' in c ? `docker-credential-${c.helper}` : c.dockerConfig}`);
  return found;
}
