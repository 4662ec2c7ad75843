import type { Descriptor } from '../oci/descriptor.js';
import type { Reference } from '../oci/reference.js';
import type { AttachmentStore } from '../transport/attachments.js';
import type { Manifest } from '../transport/image.js';
import { identifierOf } from '../oci/reference.js';
import { clientFor, openSource, parseLocation, type TransportContext } from '../transport/location.js';

/** An image named on the command line, resolved to the digest everything about signatures is bound to. */
export interface Target {
  store: AttachmentStore;
  /** Undefined when only resolved (see openTarget). */
  manifest: Manifest | undefined;
  subject: Descriptor;
  /** The reference, when the location has one (a registry or the local store). */
  reference?: Reference;
  close(): Promise<void>;
}

/**
 * `resolveOnly`: a registry image is resolved with HEAD, not read, so it can
 * be signed where a signature policy refuses to serve it unsigned.
 */
export async function openTarget(ctx: TransportContext, input: string, opts: { resolveOnly?: boolean } = {}): Promise<Target> {
  const loc = parseLocation(input, 'remote');
  const src = await openSource(ctx, loc);
  if (!src.attachments) {
    await src.close();
    throw new Error(`${input}: this kind of location has no place for signatures or referrers; use a registry, local:REF or oci:DIR`);
  }
  const head = opts.resolveOnly && loc.kind === 'remote' ? await clientFor(ctx, loc.ref.registry).resolve(loc.ref.repository, identifierOf(loc.ref)) : undefined;
  const manifest = head ? undefined : await src.root();
  return {
    store: src.attachments(),
    manifest,
    subject: head ?? { mediaType: manifest!.mediaType, digest: manifest!.digest, size: manifest!.bytes.length },
    ...(loc.kind === 'remote' || loc.kind === 'local' ? { reference: loc.ref } : {}),
    close: () => src.close(),
  };
}

