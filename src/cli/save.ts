import type { Command } from 'commander';
import { resolveLocal } from '../local/resolve.js';
import { LocalStore, type StoredImage } from '../local/store.js';
import { saveImages } from '../transport/docker-save.js';
import { out, printJson, run, UsageError } from './common.js';

export function registerSave(program: Command): void {
  program
    .command('save')
    .argument('<images...>', 'references or image IDs in the local store')
    .description('write images to one docker-save archive (docker load, skopeo docker-archive:), each shared layer once')
    .requiredOption('-o, --output <file>', 'the tar to write')
    .option('--json', 'machine-readable output')
    .action(
      run('save', async (inputs: string[], flags: { output: string; json?: boolean }) => {
        const store = new LocalStore();
        // An ID saves the image with every name it has; a name saves that name. One entry per image either way.
        const byImage = new Map<string, StoredImage[]>();
        for (const input of inputs) {
          const { id, images } = await resolveLocal(store, input);
          byImage.set(id, [...new Set([...(byImage.get(id) ?? []), ...images])]);
        }
        if (byImage.size === 0) throw new UsageError('name at least one image');
        const r = await saveImages(store.layout, [...byImage.values()], flags.output);
        if (flags.json) return void printJson({ file: flags.output, ...r });
        out(`Saved ${r.images} image${r.images === 1 ? '' : 's'} (${r.layers} layer${r.layers === 1 ? '' : 's'}) to ${flags.output}`);
      }),
    );
}
