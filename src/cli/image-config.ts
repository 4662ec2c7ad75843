import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { parseManifest } from '../oci/manifest.js';
import { clientOptions, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { platformOption, selected, sourceAnywhere } from './lookup.js';

interface ConfigFlags extends ClientFlags {
  platform?: string;
}

export function registerConfig(program: Command): void {
  platformOption(clientOptions(program.command('config').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...')), 'default: this machine')
    .description("print an image's config blob exactly as stored (what `docker inspect` reads Env, Cmd and Labels from)")
    .action(
      run('config', async (input: string, flags: ConfigFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          const image = await selected(src, flags.platform, 'choose');
          const config = parseManifest(image.bytes, image.mediaType).config;
          if (!config) throw new UsageError(`${src.description} is not an image: its manifest ${image.digest} has no config`);
          // Verified while it streams: a mismatch fails the command (exit 6) after the bytes went out, as `crane config` does.
          await pipeline(await src.blob(config), process.stdout, { end: false });
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
