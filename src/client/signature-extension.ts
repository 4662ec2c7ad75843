import { randomBytes } from 'node:crypto';
import type { Digest } from '../oci/digest.js';
import { RemoteError, remoteError } from './errors.js';
import { pullScope, pushScope, type RegistryClient } from './registry.js';

/**
 * The registry signature extension containers/image speaks (OpenShift's,
 * docs/signature-protocols.md): a registry that answers `/v2/` with
 * `X-Registry-Supports-Signatures: 1` stores simple signatures at
 * `/extensions/v2/<name>/signatures/<digest>`, listed by GET and added one at
 * a time by PUT.
 */
export const SIGNATURE_EXTENSION_HEADER = 'X-Registry-Supports-Signatures';
const SCHEMA_VERSION = 2;
const TYPE_ATOMIC = 'atomic';
/** containers/image reads at most this much of a signature list (iolimits.MaxSignatureListBodySize). */
const MAX_LIST_BYTES = 4 * 1024 * 1024;

export interface ExtensionSignature {
  schemaVersion: number;
  name: string;
  type: string;
  /** Base64 of the signature bytes (Go's encoding of a []byte). */
  content: string;
}

const supported = new WeakMap<RegistryClient, Promise<boolean>>();

export function supportsSignatureExtension(client: RegistryClient): Promise<boolean> {
  let answer = supported.get(client);
  if (!answer) {
    answer = client.request('/v2/', { scopes: [] }).then(async (res) => {
      await res.body?.cancel();
      return res.headers.get(SIGNATURE_EXTENSION_HEADER) === '1';
    });
    supported.set(client, answer);
  }
  return answer;
}

/** The simple signatures stored for `digest` (only version 2 `atomic` ones, as containers/image reads them). */
export async function fetchExtensionSignatures(client: RegistryClient, repo: string, digest: Digest): Promise<Buffer[]> {
  const res = await client.request(`/extensions/v2/${repo}/signatures/${digest}`, { scopes: [pullScope(repo)] });
  if (!res.ok) throw await remoteError(res, `signatures of ${client.registry}/${repo}@${digest}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_LIST_BYTES) throw new RemoteError(`signature list of ${repo}@${digest} exceeds ${MAX_LIST_BYTES} bytes`, res.status);
  const list = JSON.parse(bytes.toString('utf8')) as { signatures?: Partial<ExtensionSignature>[] };
  return (list.signatures ?? [])
    .filter((s) => s.schemaVersion === SCHEMA_VERSION && s.type === TYPE_ATOMIC && typeof s.content === 'string')
    .map((s) => Buffer.from(s.content!, 'base64'));
}

/** Adds one signature, under a fresh `<digest>@<32 hex>` name as containers/image makes them. */
export async function putExtensionSignature(client: RegistryClient, repo: string, digest: Digest, signature: Buffer): Promise<void> {
  const body: ExtensionSignature = { schemaVersion: SCHEMA_VERSION, name: `${digest}@${randomBytes(16).toString('hex')}`, type: TYPE_ATOMIC, content: signature.toString('base64') };
  const res = await client.request(`/extensions/v2/${repo}/signatures/${digest}`, {
    method: 'PUT',
    scopes: [pushScope(repo)],
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && !res.ok) throw await remoteError(res, `store signature for ${client.registry}/${repo}@${digest}`);
  await res.body?.cancel();
}
