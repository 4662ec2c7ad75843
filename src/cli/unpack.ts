import type { Command } from 'commander';
import { unpackLayers } from '../rootfs/unpack.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { withImage } from './lookup.js';

export function registerUnpack(program: Command): void {
  clientOptions(program.command('unpack').argument('<image>', 'REF or image ID (local store, else its registry), docker://REF, oci:DIR[:tag], ...').argument('<dir>', 'where the root filesystem goes'))
    .description('write the image\'s final root filesystem into DIR: whiteouts applied, modes and times kept, owners too when run as root')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: this machine)')
    .action(
      run('unpack', async (input: string, dir: string, flags: ClientFlags & { platform?: string }) => {
        await withImage(flags, input, async (src, image) => {
          const r = await unpackLayers(image, dir);
          if (flags.json) return void printJson({ image: src.description, digest: image.digest, dir, entries: r.entries, skipped: r.skipped });
          for (const s of r.skipped) process.stderr.write(`berth unpack: skipped ${s}: device nodes and FIFOs are not created\n`);
          out(`Unpacked ${src.description} (${image.digest}, ${image.layers.length} layer${image.layers.length === 1 ? '' : 's'}) into ${dir}`);
        });
      }),
    );
}
