import type { Descriptor } from '../oci/descriptor.js';
import { isObject } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { remoteError } from './errors.js';
import { pullScope, pushScope, type FetchedManifest, type RegistryClient } from './registry.js';

/** Referrers API answers this big at most are read; a longer list is cut (and a check examines only the first ones anyway). */
const MAX_REFERRERS_BYTES = 4 * 1024 * 1024;

/**
 * The referrers of `subject` from the OCI 1.1 referrers API, or undefined
 * when the registry has none (Distribution 2.8 answers 404), so the caller
 * falls back to the `sha256-<hex>` tag.
 */
export async function fetchReferrers(client: RegistryClient, repo: string, subject: Digest): Promise<Descriptor[] | undefined> {
  const res = await client.request(`/v2/${repo}/referrers/${subject}`, { scopes: [pullScope(repo)], headers: { Accept: MediaType.ociIndex } });
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 404 || (res.ok && !type.startsWith(MediaType.ociIndex))) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw await remoteError(res, `referrers of ${client.registry}/${repo}@${subject}`);
  const text = Buffer.from(await res.arrayBuffer()).subarray(0, MAX_REFERRERS_BYTES).toString('utf8');
  return indexEntries(text);
}

/** The `manifests` of an index (a referrers answer or the fallback tag's index), keeping only entries with a valid digest. */
export function indexEntries(text: string): Descriptor[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(json) || !Array.isArray(json.manifests)) return [];
  return json.manifests.filter((d): d is Descriptor => isObject(d) && typeof d.digest === 'string' && /^sha(256|512):[a-f0-9]+$/.test(d.digest) && typeof d.mediaType === 'string');
}

/** Pushes a manifest and says whether the registry indexed its `subject` (the `OCI-Subject` header of OCI 1.1). */
export async function pushManifestWithSubject(client: RegistryClient, repo: string, reference: string, m: FetchedManifest): Promise<{ subjectIndexed: boolean }> {
  const res = await client.request(`/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    scopes: [pushScope(repo)],
    headers: { 'Content-Type': m.mediaType },
    body: m.bytes,
  });
  if (res.status !== 201 && !res.ok) throw await remoteError(res, `push manifest ${client.registry}/${repo}:${reference}`);
  await res.body?.cancel();
  return { subjectIndexed: res.headers.get('oci-subject') !== null };
}
