import type { Command } from 'commander';
import { LayoutError } from '../local/layout.js';
import { LocalStore } from '../local/store.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { run } from './common.js';

export function registerTag(program: Command): void {
  program
    .command('tag')
    .argument('<src>', 'a reference in the local store')
    .argument('<dst>', 'the new reference (another registry or repository is fine)')
    .description('give a local image another reference; no bytes are copied')
    .action(
      run('tag', async (srcArg: string, dstArg: string) => {
        const store = new LocalStore();
        const src = parseReference(srcArg);
        const dst = parseReference(dstArg);
        const image = await store.find(src);
        if (!image) throw new LayoutError(`no image ${formatReference(src)} in the local store`);
        await store.tag(image, dst);
      }),
    );
}
