import type { Command } from 'commander';
import { resolveLocal } from '../local/resolve.js';
import { LocalStore } from '../local/store.js';
import { parseReference } from '../oci/reference.js';
import { run } from './common.js';

export function registerTag(program: Command): void {
  program
    .command('tag')
    .argument('<src>', 'a reference or image ID (a unique prefix is enough) in the local store')
    .argument('<dst>', 'the new reference (another registry or repository is fine)')
    .description('give a local image another reference; no bytes are copied')
    .action(
      run('tag', async (srcArg: string, dstArg: string) => {
        const store = new LocalStore();
        const dst = parseReference(dstArg);
        const { images } = await resolveLocal(store, srcArg);
        await store.tag(images[0]!, dst);
      }),
    );
}
