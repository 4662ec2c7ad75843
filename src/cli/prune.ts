import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { humanSize, out, printJson, run } from './common.js';

/**
 * docker's `image prune`. Without containers nothing here is "in use", so
 * docker's `--all` would mean every image; Berth's `--all` takes what no tag
 * names instead: images kept only by digest, and what `store prune` removes
 * (partial downloads, blobs no image needs). `berth rmi $(berth images -q)`
 * empties the store on purpose.
 */
export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('remove dangling (untagged) images; --all also images no tag names and leftovers of interrupted pulls')
    .option('-a, --all', 'also images named only by digest, partial downloads and blobs no image needs')
    .option('--json', 'machine-readable output')
    .action(
      run('prune', async (flags: { all?: boolean; json?: boolean }) => {
        const store = new LocalStore();
        const removal = await store.removeWhere((images) => images.filter((i) => i.untagged || (flags.all && i.ref.tag === undefined)));
        const leftovers = flags.all ? await store.prune() : { partial: [], unreferenced: [] };
        const extra = [...leftovers.partial, ...leftovers.unreferenced];
        const reclaimed = removal.freed + extra.reduce((a, b) => a + b.size, 0);
        if (flags.json) {
          return void printJson({
            images: removal.removed.map((i) => ({ name: i.name, untagged: i.untagged ?? false, digest: i.descriptor.digest })),
            attachments: removal.attachments,
            deleted: removal.deleted,
            leftovers: extra.map((b) => ({ digest: b.digest, size: b.size })),
            reclaimed,
          });
        }
        if (removal.removed.length > 0) {
          out('Deleted Images:');
          for (const i of removal.removed) out(i.untagged ? `deleted: ${i.descriptor.digest} (untagged, was ${i.name})` : `untagged: ${i.name}`);
          for (const a of removal.attachments) out(`untagged: ${a} (attached to it)`);
          for (const d of removal.deleted) out(`deleted: ${d}`);
          out();
        }
        for (const b of extra) out(`deleted leftover: ${b.digest} (${humanSize(b.size)})`);
        out(`Total reclaimed space: ${humanSize(reclaimed)}`);
      }),
    );
}
