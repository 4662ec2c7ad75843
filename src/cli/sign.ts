import type { Command } from 'commander';
import { sign as ecdsaSign } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { Descriptor } from '../oci/descriptor.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { appendSignature, signatureLayer } from '../sign/cosign-classic.js';
import { gpgSign } from '../sign/gpg.js';
import { bundleReferrer, signBundle } from '../sign/sigstore-bundle.js';
import { payloadBytes, SimpleSigningType } from '../sign/simple-signing.js';
import { signatureTag } from '../sign/tags.js';
import { pushArtifact, type AttachmentStore } from '../transport/attachments.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { loadCosignSigner, loadGpgSigner, type CosignSigner } from './signing-keys.js';
import { collect, keyValues } from './options.js';
import { openTarget } from './target.js';

interface SignFlags extends ClientFlags {
  key?: string;
  gpgKey?: string;
  annotation?: string[];
  recursive?: boolean;
  identity?: string;
}

export function registerSign(program: Command): void {
  clientOptions(program.command('sign').argument('<ref>', 'the image to sign: REF (a registry), local:REF or oci:DIR[:tag]'))
    .description('sign an image by digest: cosign (.sig tag and Sigstore bundle referrer) with --key, containers simple signing with --gpg-key')
    .option('--key <cosign.key>', 'cosign private key (password from BERTH_KEY_PASSWORD / COSIGN_PASSWORD, or asked)')
    .option('--gpg-key <file>', 'OpenPGP private key (gpg --export-secret-keys); passphrase from BERTH_GPG_PASSPHRASE')
    .option('-a, --annotation <key=value>', 'signed annotation (cosign); repeatable', collect)
    .option('--recursive', 'for an index: sign every child manifest too')
    .option('--identity <reference>', 'the identity to claim (default: the reference signed)')
    .action(
      run('sign', async (input: string, flags: SignFlags) => {
        if (!flags.key && !flags.gpgKey) throw new Error('give --key cosign.key, --gpg-key FILE, or both');
        const annotations = keyValues(flags.annotation, '--annotation');
        const cosign = flags.key ? await loadCosignSigner(flags.key) : undefined;
        const gpg = flags.gpgKey ? await loadGpgSigner(flags.gpgKey) : undefined;
        const ctx = context(flags);
        const target = await openTarget(ctx, input, { resolveOnly: !flags.recursive });
        try {
          const identity = identityOf(flags.identity, target.reference, input);
          // Refuse before writing anything when the destination cannot hold what was asked for.
          const unsupported = gpg && (await target.store.simpleSignaturesUnsupported());
          if (unsupported) throw new Error(unsupported);
          const m = target.manifest;
          const subjects = [target.subject, ...(m && isIndexType(m.mediaType) ? parseManifest(m.bytes, m.mediaType).manifests : [])];
          const written: Record<string, unknown>[] = [];
          for (const subject of subjects) {
            if (cosign) written.push(...(await signCosign(target.store, subject, cosign, identity, annotations)));
            if (gpg) written.push(await signGpg(target.store, subject, gpg, identity));
          }
          if (flags.json) return void printJson({ reference: input, digest: target.subject.digest, signatures: written });
          for (const w of written) out(String(w.message));
        } finally {
          await target.close();
          await ctx.http.close();
        }
      }),
    );
}

/** What a signature claims to be: the reference as named (tag or digest), or --identity. */
function identityOf(flag: string | undefined, ref: Reference | undefined, input: string): Reference | string {
  if (flag) return flag;
  if (!ref) throw new Error(`${input} has no registry reference to claim as identity; pass --identity host/repo:tag`);
  return ref;
}

async function signCosign(store: AttachmentStore, subject: Descriptor, signer: CosignSigner, identity: Reference | string, annotations: Record<string, string>): Promise<Record<string, unknown>[]> {
  // cosign claims the repository, no tag: the digest says which image.
  const reference = typeof identity === 'string' ? identity : `${identity.registry}/${identity.repository}`;
  const payload = payloadBytes({ type: SimpleSigningType.cosign, digest: subject.digest, reference, optional: Object.keys(annotations).length ? annotations : null });
  const signature = ecdsaSign('sha256', payload, { key: signer.privateKey, dsaEncoding: 'der' });
  const tag = signatureTag(subject.digest);
  const existing = await store.manifestByTag(tag);
  const built = appendSignature(existing?.bytes, signatureLayer(payload, signature));
  const done: Record<string, unknown>[] = [];
  if (built) await pushArtifact(store, built, { tag });
  done.push({ kind: 'cosign', digest: subject.digest, tag, manifest: built?.manifest.digest ?? existing!.digest, message: `Pushing signature to: ${store.description}:${tag}` });
  // Newer cosign's form needs the referrers API on a registry; a layout keeps it in the fallback tag.
  if (await store.takesBundles()) {
    const referrer = bundleReferrer(await signBundle(subject.digest, signer.privateKey, signer.publicKey, annotations), subject, new Date());
    const how = await pushArtifact(store, referrer, { subject: subject.digest });
    done.push({ kind: 'bundle', digest: subject.digest, manifest: referrer.manifest.digest, via: how, message: `Attached Sigstore bundle ${referrer.manifest.digest} to ${subject.digest} (${how === 'api' ? 'referrers API' : 'referrers tag'})` });
  }
  return done;
}

async function signGpg(store: AttachmentStore, subject: Descriptor, key: openpgp.PrivateKey, identity: Reference | string): Promise<Record<string, unknown>> {
  const reference = typeof identity === 'string' ? identity : formatReference(identity);
  const payload = payloadBytes({
    type: SimpleSigningType.atomic,
    digest: subject.digest,
    reference,
    optional: { creator: 'berth 0.1.0', timestamp: Math.floor(Date.now() / 1000) },
  });
  const added = await store.addSimpleSignature(subject, await gpgSign(payload, key));
  const fingerprint = key.getFingerprint().toUpperCase();
  return { kind: 'gpg', digest: subject.digest, key: fingerprint, added, message: `${added ? 'Stored' : 'Already had'} simple signature by ${fingerprint} for ${subject.digest} in ${store.description}` };
}
