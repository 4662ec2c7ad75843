import type { Command } from 'commander';
import { LayoutError } from '../local/layout.js';
import { LocalStore } from '../local/store.js';
import { familiarReference, formatReference, parseReference } from '../oci/reference.js';
import { humanSize, out, printJson, run } from './common.js';

export function registerRmi(program: Command): void {
  program
    .command('rmi')
    .argument('<refs...>', 'references in the local store')
    .description('remove references; blobs are deleted only when no remaining image needs them')
    .option('--json', 'machine-readable output')
    .action(
      run('rmi', async (inputs: string[], flags: { json?: boolean }) => {
        const store = new LocalStore();
        const results = [];
        for (const input of inputs) {
          const ref = parseReference(input);
          const image = await store.find(ref);
          if (!image) throw new LayoutError(`no image ${formatReference(ref)} in the local store`);
          const { deleted, freed } = await store.remove(image);
          results.push({ untagged: image.name, deleted, freed });
          if (flags.json) continue;
          out(`Untagged: ${familiarReference(image.ref)}`);
          for (const d of deleted) out(`Deleted: ${d}`);
          out(`Freed: ${humanSize(freed)}`);
        }
        if (flags.json) printJson(results);
      }),
    );
}
