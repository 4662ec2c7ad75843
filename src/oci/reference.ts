import { isDigest, type Digest } from './digest.js';
import { MAX_NAME_LENGTH, type RepoName, type Tag } from './name.js';

/**
 * An image reference normalised exactly as docker does it
 * (github.com/distribution/reference, ParseNormalizedNamed): `alpine` is
 * `docker.io/library/alpine:latest`. Pure: no I/O.
 */
export interface Reference {
  /** `docker.io`, `localhost:5000`, `[::1]:5000`, `quay.io`. */
  registry: string;
  repository: RepoName;
  tag?: Tag;
  /** When both are given the digest wins: it is what gets pulled. */
  digest?: Digest;
}

export class ReferenceError extends Error {
  override readonly name = 'ReferenceError';
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API lives elsewhere than its name. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** The key docker writes Hub credentials under in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io']);

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_GRAMMAR_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

/** Parses and normalises; `latest` is added only when neither tag nor digest is given. */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): Reference {
  const fail = (why: string): never => {
    throw new ReferenceError(`invalid reference "${input.slice(0, 300)}": ${why}`);
  };
  if (input.length === 0) fail('empty reference');
  if (HEX64_RE.test(input)) fail('a 64-character hexadecimal string is an image ID, not a repository name');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!DIGEST_GRAMMAR_RE.test(d)) fail(`digest "${d}" must be algorithm:hex (e.g. sha256: and 64 hex characters)`);
    if (!isDigest(d)) fail(`digest "${d}" is not supported: use sha256 or sha512 with lowercase hex of the right length`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: Tag | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const t = rest.slice(colon + 1);
    if (!TAG_RE.test(t)) fail(`tag "${t}" must be 1-128 characters of [A-Za-z0-9_.-], not starting with "." or "-"`);
    tag = t as Tag;
    rest = rest.slice(0, colon);
  }

  const { registry, path } = splitDomain(rest);
  if (!DOMAIN_RE.test(registry)) fail(`registry "${registry}" is not a valid host[:port]`);
  if (path.length === 0) fail('missing repository name');
  for (const component of path.split('/')) {
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (component.toLowerCase() !== component && PATH_COMPONENT_RE.test(component.toLowerCase())) {
      fail(`repository name "${path}" must be lowercase`);
    }
    fail(`repository path component "${component}" must be [a-z0-9] separated by ".", "_", "__" or "-"`);
  }
  // Docker measures the normalised name, domain included.
  if (`${registry}/${path}`.length > MAX_NAME_LENGTH) fail(`repository name is longer than ${MAX_NAME_LENGTH} characters`);

  const ref: Reference = { registry, repository: path as RepoName };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (opts.defaultTag !== false && tag === undefined && digest === undefined) ref.tag = 'latest' as Tag;
  return ref;
}

/** docker's splitDockerDomain: the first component is a host only if it looks like one. */
function splitDomain(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = name.slice(0, slash);
  const isHost =
    slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first);
  let registry = isHost ? first : DOCKER_HUB;
  let path = isHost ? name.slice(slash + 1) : name;
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && path.length > 0 && !path.includes('/')) path = `library/${path}`;
  return { registry, path };
}

/** `docker.io/library/alpine:latest`, `host:5000/app@sha256:...` */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: `alpine:latest`, `user/app`, `quay.io/x/y`. */
export function familiarName(ref: Pick<Reference, 'registry' | 'repository'>): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  return ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
}

export function familiarReference(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `name:tag` or `name@sha256:...`, whichever the identifier is. */
export const withIdentifier = (name: string, identifier: string): string => `${name}${isDigest(identifier) ? '@' : ':'}${identifier}`;

/** What to ask the registry for: the digest when there is one, else the tag. */
export const identifierOf = (ref: Reference): string => ref.digest ?? ref.tag ?? 'latest';

/** The host the Distribution API answers on. */
export const apiHost = (registry: string): string => (registry === DOCKER_HUB ? DOCKER_HUB_API : registry);

/** A registry host as given to `login`/`catalog`: folds Hub aliases and strips a scheme or path. */
export function normaliseRegistryHost(input: string): string {
  const host = input.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (host.length === 0 || !DOMAIN_RE.test(host)) throw new ReferenceError(`invalid registry "${input}": expected host[:port]`);
  return HUB_ALIASES.has(host) || host === DOCKER_HUB ? DOCKER_HUB : host;
}

/**
 * Loopback registries may speak plain HTTP without being told, as docker
 * allows for localhost and 127.0.0.0/8.
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127(?:\.[0-9]{1,3}){3}$/.test(host);
}
