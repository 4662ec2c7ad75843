import type { Command } from 'commander';
import { clientOptions, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { platformOption, selected, sourceAnywhere } from './lookup.js';
import { registerIndexCommands } from './manifest-index.js';

interface ManifestFlags extends ClientFlags {
  platform?: string;
}

export function registerManifest(program: Command): void {
  const manifest = program.command('manifest');
  registerIndexCommands(manifest);
  platformOption(clientOptions(manifest.argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...')), 'default: the index itself')
    .description('print the manifest exactly as stored (the bytes its digest is computed over); create, annotate and push build an index')
    .action(
      run('manifest', async (input: string, flags: ManifestFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          process.stdout.write((await selected(src, flags.platform, 'keep')).bytes);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
