import type { Command } from 'commander';
import { exportLayers } from '../rootfs/export.js';
import { checkWritable } from '../transport/tar.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { withImage } from './lookup.js';

export function registerExport(program: Command): void {
  clientOptions(program.command('export').argument('<image>', 'REF or image ID (local store, else its registry), docker://REF, oci:DIR[:tag], ...').argument('<file>', 'the tar to write'))
    .description('the image\'s final filesystem as one flat tar (docker export, crane export), streamed without unpacking')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: this machine)')
    .action(
      run('export', async (input: string, file: string, flags: ClientFlags & { platform?: string }) => {
        await checkWritable(file);
        await withImage(flags, input, async (src, image) => {
          const r = await exportLayers(image, file);
          if (flags.json) return void printJson({ image: src.description, digest: image.digest, file, entries: r.entries });
          out(`Exported ${src.description} (${image.digest}): ${r.entries} entries in ${file}`);
        });
      }),
    );
}
