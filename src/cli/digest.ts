import type { Command } from 'commander';
import { clientOptions, out, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { platformOption, selected, sourceAnywhere } from './lookup.js';

interface DigestFlags extends ClientFlags {
  platform?: string;
}

export function registerDigest(program: Command): void {
  platformOption(clientOptions(program.command('digest').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...')), 'default: the index itself')
    .description('print the digest of the manifest a reference names')
    .action(
      run('digest', async (input: string, flags: DigestFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          out((await selected(src, flags.platform, 'keep')).digest);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
