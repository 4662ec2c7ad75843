import type { Command } from 'commander';
import { familiarName } from '../oci/reference.js';
import { copyImage } from '../transport/copy.js';
import { openSink, openSource } from '../transport/location.js';
import { copyAttached, noReferrersOption } from './attached.js';
import { clientOptions, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { namedLocal } from './lookup.js';
import { pushProgress } from './progress.js';
import { progressOptions, Reporter, type ProgressFlags } from './progress-mode.js';
import { PUSH_WORDS } from './progress-words.js';

export function registerPush(program: Command): void {
  progressOptions(noReferrersOption(clientOptions(program.command('push').argument('<ref>', 'a reference in the local store (or the ID of an image with one name)'))))
    .description('push an image from the local store to its registry')
    .action(
      run('push', async (input: string, flags: ClientFlags & ProgressFlags & { referrers?: boolean }) => {
        const report = Reporter.for(flags, PUSH_WORDS, pushProgress);
        const ctx = context(flags);
        const ref = await namedLocal(ctx, input);
        report.say(`The push refers to repository [${familiarName(ref)}]`);
        const src = await openSource(ctx, { kind: 'local', ref });
        const dst = await openSink(ctx, { kind: 'remote', ref });
        const result = await report.track(() => copyImage(src, dst, { all: true, onEvent: report.onEvent }));
        await copyAttached(src, dst, result.root, flags.referrers);
        await ctx.http.close();
        const m = result.root;
        report.say(`${ref.tag ?? m.digest}: digest: ${m.digest} size: ${m.bytes.length}`);
        report.result({ reference: input, digest: m.digest, size: m.bytes.length, transferred: result.transferred }, m.digest);
      }),
    );
}
