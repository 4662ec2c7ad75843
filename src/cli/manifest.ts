import type { Command } from 'commander';
import { clientOptions, context, run, type ClientFlags } from './common.js';
import { sourceAnywhere } from './lookup.js';

export function registerManifest(program: Command): void {
  clientOptions(program.command('manifest').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...'))
    .description('print the manifest exactly as stored (the bytes its digest is computed over)')
    .action(
      run('manifest', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          process.stdout.write((await src.root()).bytes);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
