import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../oci/reference.js';
import { helperErase, helperGet, helperStore } from './cred-helper.js';
import { dockerConfigPath, keyHost, podmanAuthPath, readConfigFile, writeConfigFile, type AuthEntry, type DockerConfig } from './docker-config.js';

/** A password login, or an identity (refresh) token from an OAuth2 token service. */
export interface Credential {
  username: string;
  password?: string;
  identityToken?: string;
}

const TOKEN_USER = '<token>';

/** The key docker uses for a registry in config.json and with helpers. */
export const serverKey = (registry: string): string => (registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry);

/**
 * Credentials the way docker finds them: `credHelpers[registry]`, then
 * `credsStore`, then `auths`; podman's auth.json is read as a fallback.
 */
export async function getCredential(registry: string, configFile = dockerConfigPath()): Promise<Credential | undefined> {
  const config = readConfigFile(configFile);
  const helper = helperFor(config, registry);
  if (helper) {
    const c = await helperCredential(helper, registry);
    if (c) return c;
  }
  const entry = findEntry(config, registry) ?? findPodmanEntry(registry);
  return entry ? fromEntry(entry) : undefined;
}

/** What `docker-credential-<helper> get` has for the registry. */
export async function helperCredential(helper: string, registry: string): Promise<Credential | undefined> {
  const c = await helperGet(helper, serverKey(registry));
  return c && fromHelper(c.Username, c.Secret);
}

/** Stores where docker would, so `docker` and `berth` share one login. Returns where it went. */
export async function storeCredential(registry: string, cred: Credential): Promise<string> {
  const path = dockerConfigPath();
  const config = readConfigFile(path);
  const helper = helperFor(config, registry);
  const key = serverKey(registry);
  if (helper) {
    const secret = cred.identityToken ?? cred.password ?? '';
    await helperStore(helper, { ServerURL: key, Username: cred.identityToken ? TOKEN_USER : cred.username, Secret: secret });
    // docker keeps an empty entry so `docker info` lists the registry as logged in.
    config.auths = { ...config.auths, [key]: {} };
  } else {
    const entry: AuthEntry = { auth: Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64') };
    if (cred.identityToken) {
      entry.auth = Buffer.from(`${cred.username}:`).toString('base64');
      entry.identitytoken = cred.identityToken;
    }
    config.auths = { ...withoutHost(config.auths, registry), [key]: entry };
  }
  writeConfigFile(path, config);
  return helper ? `docker-credential-${helper}` : path;
}

/**
 * Removes the registry's credentials from every store `getCredential` reads:
 * the helper, docker's config.json and podman's auth.json, so no login is
 * left behind that berth would go on using. Returns where they were.
 */
export async function eraseCredential(registry: string): Promise<string[]> {
  const removed: string[] = [];
  const path = dockerConfigPath();
  const config = readConfigFile(path);
  const helper = helperFor(config, registry);
  if (helper && (await helperErase(helper, serverKey(registry)))) removed.push(`docker-credential-${helper}`);
  for (const file of [path, podmanAuthPath()]) {
    if (!file) continue;
    const c = file === path ? config : readConfigFile(file);
    if (!Object.keys(c.auths ?? {}).some((k) => hostMatches(k, registry))) continue;
    c.auths = withoutHost(c.auths, registry);
    writeConfigFile(file, c);
    removed.push(file);
  }
  return removed;
}

function helperFor(config: DockerConfig, registry: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  return helpers[registry] ?? helpers[serverKey(registry)] ?? (config.credsStore || undefined);
}

function hostMatches(key: string, registry: string): boolean {
  const host = keyHost(key);
  if (registry === DOCKER_HUB) return host === 'index.docker.io' || host === 'docker.io' || host === 'registry-1.docker.io';
  return host === registry;
}

function findEntry(config: DockerConfig, registry: string): AuthEntry | undefined {
  const auths = config.auths ?? {};
  const exact = auths[serverKey(registry)];
  if (exact && hasSecret(exact)) return exact;
  return Object.entries(auths).find(([k, v]) => hostMatches(k, registry) && hasSecret(v))?.[1];
}

function findPodmanEntry(registry: string): AuthEntry | undefined {
  const path = podmanAuthPath();
  return path ? findEntry(readConfigFile(path), registry) : undefined;
}

const hasSecret = (e: AuthEntry): boolean => !!(e.auth || e.password || e.identitytoken);

function withoutHost(auths: Record<string, AuthEntry> | undefined, registry: string): Record<string, AuthEntry> {
  return Object.fromEntries(Object.entries(auths ?? {}).filter(([k]) => !hostMatches(k, registry)));
}

function fromEntry(e: AuthEntry): Credential {
  let username = e.username ?? '';
  let password = e.password;
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    username = colon >= 0 ? decoded.slice(0, colon) : decoded;
    password = colon >= 0 ? decoded.slice(colon + 1) : '';
  }
  const cred: Credential = { username };
  if (e.identitytoken) cred.identityToken = e.identitytoken;
  else if (password !== undefined) cred.password = password;
  return cred;
}

const fromHelper = (username: string, secret: string): Credential =>
  username === TOKEN_USER ? { username: '', identityToken: secret } : { username, password: secret };
