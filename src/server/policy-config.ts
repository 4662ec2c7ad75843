import { resolve } from 'node:path';
import { z } from 'zod';
import type { RegistryContext } from '../registry/context.js';
import { SignaturePolicy, type SignatureRule } from '../registry/signature-policy.js';
import { loadTrustedKeys } from '../sign/trusted-keys.js';

const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

/** `policy:` what the registry requires of content, per repository glob. */
export const PolicyConfigSchema = z
  .object({
    signatures: z
      .array(
        z
          .object({
            repos: globs,
            /** cosign public keys (PEM): `.sig` signatures and Sigstore bundles. */
            keys: z.array(z.string().min(1)).default([]),
            /** OpenPGP public keys (`gpg --export`): simple signing signatures. */
            gpgKeys: z.array(z.string().min(1)).default([]),
            /** `pull`: unsigned images are not served; `push`: no tag moves onto an unsigned digest. */
            enforce: z.enum(['pull', 'push']),
          })
          .strict()
          .refine((r) => r.keys.length + r.gpgKeys.length > 0, 'a signature rule needs keys, gpgKeys, or both'),
      )
      .default([]),
  })
  .strict()
  .default({ signatures: [] });

export type PolicyConfig = z.output<typeof PolicyConfigSchema>;

/** Reads every key the rules name (relative paths against the working directory) and registers the gates; a bad key stops the start. */
export async function installSignaturePolicy(ctx: RegistryContext, config: PolicyConfig): Promise<void> {
  if (config.signatures.length === 0) return;
  const rules: SignatureRule[] = [];
  for (const r of config.signatures) {
    rules.push({ repos: r.repos, enforce: r.enforce, keys: await loadTrustedKeys(r.keys.map((k) => resolve(k)), r.gpgKeys.map((k) => resolve(k))) });
  }
  new SignaturePolicy(ctx, rules).install();
}
