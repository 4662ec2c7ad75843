import { basename } from 'node:path';
import type { Command } from 'commander';
import { MediaType } from '../oci/mediatypes.js';
import { layerFromFile, LayerFileError } from '../transport/layer-file.js';
import { clientOptions, run, UsageError } from './common.js';
import { editImage, editOptions, type EditFlags } from './edit.js';

interface AppendFlags extends EditFlags {
  layer: string;
}

export function registerAppend(program: Command): void {
  editOptions(clientOptions(program.command('append').argument('<ref>', 'the base image: REF (a registry), oci:DIR[:tag], local:REF, ...')))
    .description('add a tar file (plain or gzip) as a new top layer, with its diff_id and a history entry; prints the new digest')
    .requiredOption('--layer <file.tar>', 'the layer: a tar archive of the files to add, paths relative to /')
    .action(
      run('append', async (input: string, flags: AppendFlags) => {
        const layer = await layerFromFile(flags.layer).catch((e: unknown) => {
          throw e instanceof LayerFileError ? new UsageError(e.message) : e;
        });
        try {
          await editImage(input, flags, (config, manifest) => {
            const mediaType = manifest.mediaType === MediaType.dockerManifest ? MediaType.dockerLayer : MediaType.ociLayerTarGzip;
            const desc = { mediaType, digest: layer.digest, size: layer.size };
            manifest.layers.push(desc);
            config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
            config.history = [...(config.history ?? []), { created: new Date().toISOString(), created_by: `berth append ${basename(flags.layer)}` }];
            return [{ desc, file: layer.file }];
          });
        } finally {
          await layer.remove();
        }
      }),
    );
}
