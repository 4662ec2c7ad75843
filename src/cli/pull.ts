import type { Command } from 'commander';
import { familiarReference, formatReference, parseReference } from '../oci/reference.js';
import { copyImage, type CopyEvent } from '../transport/copy.js';
import { openSink, openSource } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { copyAttached, noReferrersOption } from './attached.js';
import { clientOptions, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { pullProgress } from './progress.js';
import { progressOptions, Reporter, type ProgressFlags } from './progress-mode.js';
import { PULL_WORDS } from './progress-words.js';

interface PullFlags extends ClientFlags, ProgressFlags {
  platform?: string;
  allPlatforms?: boolean;
  referrers?: boolean;
}

export function registerPull(program: Command): void {
  progressOptions(noReferrersOption(clientOptions(program.command('pull').argument('<ref>', 'image reference, e.g. alpine or host:5000/app:v1'))))
    .description('pull an image from a registry into the local store')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: this machine)')
    .option('--all-platforms', 'keep the whole index and every platform')
    .action(
      run('pull', async (input: string, flags: PullFlags) => {
        const ref = parseReference(input);
        const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
        const report = Reporter.for(flags, PULL_WORDS, pullProgress);
        const ctx = context(flags);
        const before = await ctx.store.find(ref);
        // docker's first line: the tag, or for a digest reference the whole `name@sha256:...`.
        report.say(`${ref.digest ? familiarReference({ registry: ref.registry, repository: ref.repository, digest: ref.digest }) : ref.tag}: Pulling from ${ref.repository}`);
        const layers: { digest: string; size: number; status: string }[] = [];
        const onEvent = (e: CopyEvent) => {
          if (e.type === 'blob' && e.status !== 'waiting' && e.status !== 'transferring') layers.push({ digest: e.desc.digest, size: e.desc.size, status: e.status });
          report.onEvent(e);
        };
        const src = await openSource(ctx, { kind: 'remote', ref });
        const dst = await openSink(ctx, { kind: 'local', ref });
        const result = await report.track(() => copyImage(src, dst, { all: flags.allPlatforms ?? false, ...(platform ? { platform } : {}), onEvent }));
        await copyAttached(src, dst, result.root, flags.referrers);
        await ctx.http.close();
        const upToDate = before?.descriptor.digest === result.root.digest && result.transferred === 0;
        const status = upToDate ? `Image is up to date for ${familiarReference(ref)}` : `Downloaded newer image for ${familiarReference(ref)}`;
        report.say(`Digest: ${result.sourceDigest}`);
        report.say(`Status: ${status}`);
        report.say(formatReference(ref));
        // docker pull -q prints the reference alone.
        report.result({ reference: formatReference(ref), digest: result.sourceDigest, manifest: result.root.digest, upToDate, transferred: result.transferred, layers }, formatReference(ref));
      }),
    );
}
