import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** One `auths` entry of docker's config.json (podman's auth.json uses the same shape). */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

export const dockerConfigPath = (): string =>
  join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');

/** Podman/skopeo's file: `REGISTRY_AUTH_FILE`, else `${XDG_RUNTIME_DIR}/containers/auth.json`. */
export function podmanAuthPath(): string | undefined {
  if (process.env.REGISTRY_AUTH_FILE) return process.env.REGISTRY_AUTH_FILE;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return undefined;
}

export function readConfigFile(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as DockerConfig) : {};
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); fix or remove it`);
  }
}

/** Writes atomically with mode 0600: the file holds secrets, and a crash must not truncate it. */
export function writeConfigFile(path: string, config: DockerConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** docker's ConvertToHostname: `https://index.docker.io/v1/` -> `index.docker.io`. */
export const keyHost = (key: string): string => key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
