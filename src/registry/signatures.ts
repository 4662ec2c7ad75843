import { createHash } from 'node:crypto';
import type { Digest } from '../oci/digest.js';
import { isObject } from '../oci/descriptor.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { SignatureQueries, type StoredSignature } from '../meta/signature-queries.js';
import { isOpenPgpMessage, MAX_SIMPLE_SIGNATURE_BYTES } from '../sign/gpg.js';
import { MAX_SIGNATURES_EXAMINED } from '../sign/media-types.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';

/** A PUT body holds one signature as base64 JSON: this is plenty for MAX_SIMPLE_SIGNATURE_BYTES. */
export const MAX_SIGNATURE_BODY_BYTES = 64 * 1024;
/** Signatures one manifest may have; more are refused, so a list (and a policy check) stays small. */
export const MAX_SIGNATURES_PER_MANIFEST = MAX_SIGNATURES_EXAMINED;
const NAME_RE = /^(sha256|sha512):[a-f0-9]{64,128}@[A-Za-z0-9._-]{1,128}$/;

const invalid = (message: string) => new RegistryError('MANIFEST_INVALID', message);

/** The simple signatures of a manifest; 404 when the repository does not have it. */
export async function listSignatures(ctx: RegistryContext, repo: RepoName, digest: Digest): Promise<StoredSignature[]> {
  const repoId = await ctx.requireRepo(repo);
  if (!(await loadManifest(ctx, repoId, digest))) throw unknown(digest);
  return new SignatureQueries(ctx.meta.db).list(repoId, digest, MAX_SIGNATURES_PER_MANIFEST);
}

/**
 * Stores one signature PUT through the extension, after checking it is what
 * containers/image sends (version 2, type atomic, a `<digest>@<id>` name, an
 * OpenPGP message of at most MAX_SIMPLE_SIGNATURE_BYTES) for a manifest the
 * repository holds. Nothing is stored for anything else.
 */
export async function addSignature(ctx: RegistryContext, repo: RepoName, digest: Digest, body: Buffer, actor: string | null): Promise<'added' | 'exists'> {
  const sig = parseBody(body, digest);
  if (!(await isOpenPgpMessage(sig.content))) throw invalid('content is not an OpenPGP message (simple signing signatures are OpenPGP signed messages)');
  const repoId = await ctx.requireRepo(repo);
  const result = await new SignatureQueries(ctx.meta.db).add(
    repoId,
    digest,
    { name: sig.name, content: sig.content, contentDigest: createHash('sha256').update(sig.content).digest('hex'), now: ctx.now(), actor },
    MAX_SIGNATURES_PER_MANIFEST,
    ctx.events.signatureHook(repo, digest),
  );
  if (result === 'no-manifest') throw unknown(digest);
  if (result === 'full') throw new RegistryError('DENIED', `${repo}@${digest} already has ${MAX_SIGNATURES_PER_MANIFEST} signatures, the most one manifest may have`, { status: 403 });
  return result;
}

function parseBody(body: Buffer, digest: Digest): { name: string; content: Buffer } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('the signature body is not JSON: expected {"schemaVersion":2,"type":"atomic","name":"<digest>@<id>","content":"<base64>"}');
  }
  if (!isObject(json)) throw invalid('the signature body must be a JSON object');
  if (json.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  if (json.type !== 'atomic') throw invalid('type must be "atomic" (a simple signing signature)');
  if (typeof json.name !== 'string' || !NAME_RE.test(json.name) || !json.name.startsWith(`${digest}@`)) throw invalid(`name must be "${digest}@<id>"`);
  if (typeof json.content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(json.content)) throw invalid('content must be the base64 of the signature');
  const content = Buffer.from(json.content, 'base64');
  if (content.length === 0) throw invalid('content is empty');
  if (content.length > MAX_SIMPLE_SIGNATURE_BYTES) throw new RegistryError('SIZE_INVALID', `a signature may be at most ${MAX_SIMPLE_SIGNATURE_BYTES} bytes`, { status: 413 });
  return { name: json.name, content };
}

const unknown = (digest: Digest) => new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in this repository; push it before its signatures`, { detail: { digest } });
