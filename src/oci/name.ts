import { RegistryError } from './errors.js';

/** A repository name that matches the distribution grammar; safe as a path. */
export type RepoName = string & { readonly __brand: 'RepoName' };
export type Tag = string & { readonly __brand: 'Tag' };

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;

export function isRepoName(value: string): value is RepoName {
  return value.length <= MAX_NAME_LENGTH && NAME_RE.test(value);
}

export function parseRepoName(value: string): RepoName {
  if (isRepoName(value)) return value;
  const why =
    value.length > MAX_NAME_LENGTH
      ? `longer than ${MAX_NAME_LENGTH} characters`
      : 'must be lowercase path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by "/"';
  throw new RegistryError('NAME_INVALID', `invalid repository name: ${why}`, {
    detail: { name: value.slice(0, 300) },
  });
}

export const isTag = (value: string): value is Tag => TAG_RE.test(value);

export function parseTag(value: string): Tag {
  if (isTag(value)) return value;
  throw new RegistryError('MANIFEST_INVALID', `invalid tag "${value.slice(0, 150)}": must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
}
