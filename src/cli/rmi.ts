import type { Command } from 'commander';
import { label, resolveLocal } from '../local/resolve.js';
import { LocalStore, type Removal, type StoredImage } from '../local/store.js';
import { familiarReference } from '../oci/reference.js';
import { humanSize, out, printJson, run, UsageError } from './common.js';

export function registerRmi(program: Command): void {
  program
    .command('rmi')
    .argument('<images...>', 'references or image IDs (a unique prefix is enough) in the local store')
    .description('remove images; blobs are deleted only when no remaining image needs them, signatures and referrers go with their image')
    .option('-f, --force', 'an image ID with several names removes all of them')
    .option('--json', 'machine-readable output')
    .action(
      run('rmi', async (inputs: string[], flags: { json?: boolean; force?: boolean }) => {
        const store = new LocalStore();
        const results = [];
        for (const input of inputs) {
          const { id, images, byId } = await resolveLocal(store, input);
          const names = images.filter((i) => !i.untagged);
          if (byId && names.length > 1 && !flags.force) {
            throw new UsageError(`image ${id} has ${names.length} names (${names.map(label).join(', ')}); remove them by name, or all at once with --force`);
          }
          const removal = await store.remove(...images);
          results.push(jsonOf(id, removal));
          if (!flags.json) print(removal);
        }
        if (flags.json) printJson(results);
      }),
    );
}

const jsonOf = (id: string, r: Removal) => ({ id, untagged: r.removed.map(nameOf), attachments: r.attachments, deleted: r.deleted, freed: r.freed });

const nameOf = (i: StoredImage): string => (i.untagged ? '<none>' : i.name);

/** What docker prints, and what it freed. */
export function print(r: Removal): void {
  for (const i of r.removed) if (!i.untagged) out(`Untagged: ${familiarReference(i.ref)}`);
  for (const a of r.attachments) out(`Untagged: ${a} (attached to it)`);
  for (const d of r.deleted) out(`Deleted: ${d}`);
  out(`Freed: ${humanSize(r.freed)}`);
}
