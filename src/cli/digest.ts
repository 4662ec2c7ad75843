import type { Command } from 'commander';
import { clientOptions, context, out, run, type ClientFlags } from './common.js';
import { sourceAnywhere } from './lookup.js';

export function registerDigest(program: Command): void {
  clientOptions(program.command('digest').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...'))
    .description('print the digest of the manifest a reference names')
    .action(
      run('digest', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          out((await src.root()).digest);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
