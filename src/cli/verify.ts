import type { Command } from 'commander';
import { checkSignatures, type SignatureCheck } from '../sign/verify.js';
import { findSignatures } from '../sign/gather.js';
import { clientOptions, Exit, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { loadTrustedKeys } from '../sign/trusted-keys.js';
import { collect, keyValues } from './options.js';
import { openTarget } from './target.js';

interface VerifyFlags extends ClientFlags {
  key?: string[];
  gpgKey?: string[];
  annotation?: string[];
}

const KIND = { cosign: 'cosign .sig', bundle: 'sigstore bundle', gpg: 'simple signing' } as const;

export function registerVerify(program: Command): void {
  clientOptions(program.command('verify').argument('<ref>', 'REF (a registry), local:REF or oci:DIR[:tag]'))
    .description('check an image\'s signatures (cosign .sig, Sigstore bundles, simple signing) against trusted keys')
    .option('--key <cosign.pub>', 'trusted cosign public key; repeatable', collect)
    .option('--gpg-key <pub.gpg>', 'trusted OpenPGP public key (gpg --export); repeatable', collect)
    .option('-a, --annotation <key=value>', 'require this signed annotation; repeatable', collect)
    .addHelpText('after', '\nExit codes: 0 at least one valid signature, 7 unsigned, 8 no signature verifies with the keys, 9 a valid signature names another digest, identity or annotations.')
    .action(
      run('verify', async (input: string, flags: VerifyFlags) => {
        if (!flags.key?.length && !flags.gpgKey?.length) throw new Error('give at least one trusted key: --key cosign.pub or --gpg-key pub.gpg');
        const keys = await loadTrustedKeys(flags.key ?? [], flags.gpgKey ?? []);
        const annotations = keyValues(flags.annotation, '--annotation');
        const ctx = context(flags);
        const target = await openTarget(ctx, input);
        try {
          const found = await findSignatures(target.store, target.subject);
          const checks = await checkSignatures(found, keys, { digest: target.subject.digest, annotations, ...(target.reference ? { reference: target.reference } : {}) });
          const code = exitCode(checks);
          if (flags.json) {
            printJson({ reference: input, digest: target.subject.digest, verified: code === Exit.ok, signatures: checks });
            return code;
          }
          out(`${input} resolves to ${target.subject.digest}`);
          for (const c of checks) out(line(c));
          process.stderr.write(`${summary(code, checks)}\n`);
          return code;
        } finally {
          await target.close();
          await ctx.http.close();
        }
      }),
    );
}

export function exitCode(checks: SignatureCheck[]): number {
  if (checks.some((c) => c.outcome === 'valid')) return Exit.ok;
  if (checks.length === 0) return Exit.unsigned;
  return checks.some((c) => c.signer !== undefined) ? Exit.mismatch : Exit.untrusted;
}

function line(c: SignatureCheck): string {
  const mark = c.outcome === 'valid' ? 'VALID  ' : 'INVALID';
  const who = c.signer ? ` by ${c.signer}` : '';
  const claims = c.claims ? ` signed ${c.claims.reference ? `"${c.claims.reference}" ` : ''}${c.claims.digest}${c.claims.created ? ` at ${c.claims.created}` : ''}${Object.keys(c.claims.annotations ?? {}).length ? ` ${JSON.stringify(c.claims.annotations)}` : ''}` : '';
  return `${mark} ${KIND[c.kind]}${who}${claims}${c.outcome === 'valid' ? '' : `: ${c.message}`} (${c.where})`;
}

function summary(code: number, checks: SignatureCheck[]): string {
  const valid = checks.filter((c) => c.outcome === 'valid').length;
  if (code === Exit.ok) return `Verified: ${valid} of ${checks.length} signature(s) valid`;
  if (code === Exit.unsigned) return 'Not verified: no signatures found (sign with `berth sign --key cosign.key REF` or `--gpg-key`)';
  if (code === Exit.mismatch) return `Not verified: signed with a trusted key, but not for this image as named (${checks.find((c) => c.signer)!.message})`;
  return `Not verified: none of ${checks.length} signature(s) verifies with the given key(s)`;
}
