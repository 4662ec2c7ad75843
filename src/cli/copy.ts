import type { Command } from 'commander';
import { familiarReference } from '../oci/reference.js';
import { copyImage, type CopyResult } from '../transport/copy.js';
import type { ImageSink, ImageSource } from '../transport/image.js';
import { openSink, openSource, parseLocation, type TransportContext } from '../transport/location.js';
import { formatPlatform, parsePlatform, type PlatformSpec } from '../transport/platform.js';
import { copyAttached, noReferrersOption } from './attached.js';
import { clientOptions, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { copyAllTags } from './copy-tags.js';
import { resolveLocation } from './lookup.js';
import { copyProgress } from './progress.js';
import { progressOptions, Reporter, type ProgressFlags } from './progress-mode.js';
import { COPY_WORDS } from './progress-words.js';

/** What decides a copy's output: `report`'s mode, else skopeo's blob lines unless --json; attachments unless --no-referrers. */
export interface OutputFlags {
  json?: boolean;
  referrers?: boolean;
  report?: Reporter;
}

interface CopyFlags extends ClientFlags, ProgressFlags {
  all?: boolean;
  allTags?: boolean;
  platform?: string;
  referrers?: boolean;
}

export function registerCopy(program: Command): void {
  progressOptions(noReferrersOption(clientOptions(
    program
      .command('copy')
      .argument('<src>', 'REF (a registry), docker://REF, local:REF (or local:IMAGE-ID), oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:ref]')
      .argument('<dst>', 'same forms as <src>'),
  )))
    .description('copy an image between registries, the local store and files, streaming every blob; an index is copied whole')
    .option('--all', 'copy every platform of a multi-platform index (the default; kept for scripts written for skopeo)')
    .option('--platform <os/arch[/variant]>', "copy only this platform's image of an index: the destination gets that image's digest, not the index's")
    .option('--all-tags', 'SRC and DST are repositories on registries: copy every tag of SRC')
    .action(
      run('copy', async (srcArg: string, dstArg: string, flags: CopyFlags) => {
        if (flags.all && flags.platform) throw new UsageError('--all and --platform contradict each other: --platform copies one image of the index, --all the whole index');
        const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
        const ctx = context(flags);
        try {
          if (flags.allTags) return void (await copyAllTags(ctx, srcArg, dstArg, flags, platform));
          await copyOne(ctx, srcArg, dstArg, flags, platform);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

async function copyOne(ctx: TransportContext, srcArg: string, dstArg: string, flags: CopyFlags, platform: PlatformSpec | undefined): Promise<void> {
  const srcLoc = await resolveLocation(ctx, srcArg);
  const hint = srcLoc.kind === 'remote' || srcLoc.kind === 'local' ? familiarReference(srcLoc.ref) : undefined;
  const src = await openSource(ctx, srcLoc);
  try {
    const dst = await openSink(ctx, parseLocation(dstArg, 'remote'), hint);
    const report = Reporter.for(flags, COPY_WORDS, copyProgress);
    const { result, attached } = await copyWithAttachments(src, dst, { ...flags, report }, platform);
    if (attached && attached.tags + attached.referrers + attached.simpleSignatures > 0) report.say(`Copying attachments: ${attached.tags} signature tag(s), ${attached.referrers} referrer(s), ${attached.simpleSignatures} simple signature(s)`);
    report.say(`Writing manifest to image destination`);
    report.say(`Digest: ${result.root.digest}`);
    report.result({ source: srcArg, destination: dstArg, digest: result.root.digest, sourceDigest: result.sourceDigest, transferred: result.transferred, attached }, result.root.digest);
  } finally {
    await src.close();
  }
}

/** One image or index, its blob lines as skopeo prints them, then what is attached to it. */
export async function copyWithAttachments(src: ImageSource, dst: ImageSink, flags: OutputFlags, platform: PlatformSpec | undefined): Promise<{ result: CopyResult; attached: Awaited<ReturnType<typeof copyAttached>> }> {
  const onEvent = flags.report?.onEvent ?? (flags.json ? undefined : copyProgress());
  const copy = () =>
    copyImage(src, dst, {
      // As crane does: an index stays an index unless one platform is asked for.
      all: platform === undefined,
      ...(platform ? { platform } : {}),
      ...(onEvent ? { onEvent } : {}),
    });
  const result = await (flags.report ? flags.report.track(copy) : copy());
  if (result.root.digest !== result.sourceDigest) {
    // The destination names another manifest than the source reference did: say so before anyone compares digests.
    process.stderr.write(`${dst.acceptsIndex ? 'Selected' : `${dst.description} holds one image: selected`} ${platform ? `the ${formatPlatform(platform)} image` : "this machine's image"} of the index ${result.sourceDigest}; the destination's digest is that image's, ${result.root.digest}\n`);
  }
  const attached = await copyAttached(src, dst, result.root, flags.referrers);
  return { result, attached };
}
