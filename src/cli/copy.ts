import type { Command } from 'commander';
import { familiarReference } from '../oci/reference.js';
import { copyImage } from '../transport/copy.js';
import { openSink, openSource, parseLocation } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { copyAttached, noReferrersOption } from './attached.js';
import { clientOptions, context, out, printJson, run, shortId, type ClientFlags } from './common.js';
import { resolveLocation } from './lookup.js';

interface CopyFlags extends ClientFlags {
  all?: boolean;
  platform?: string;
  referrers?: boolean;
}

export function registerCopy(program: Command): void {
  noReferrersOption(clientOptions(
    program
      .command('copy')
      .argument('<src>', 'REF (a registry), docker://REF, local:REF (or local:IMAGE-ID), oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:ref]')
      .argument('<dst>', 'same forms as <src>'),
  ))
    .description('copy an image between registries, the local store and files, streaming every blob')
    .option('--all', 'copy every platform of a multi-platform index')
    .option('--platform <os/arch[/variant]>', 'which image of an index to copy without --all (default: this machine)')
    .action(
      run('copy', async (srcArg: string, dstArg: string, flags: CopyFlags) => {
        const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
        const ctx = context(flags);
        const srcLoc = await resolveLocation(ctx, srcArg);
        const dstLoc = parseLocation(dstArg, 'remote');
        const hint = srcLoc.kind === 'remote' || srcLoc.kind === 'local' ? familiarReference(srcLoc.ref) : undefined;
        const src = await openSource(ctx, srcLoc);
        try {
          const dst = await openSink(ctx, dstLoc, hint);
          const result = await copyImage(src, dst, {
            all: flags.all ?? false,
            ...(platform ? { platform } : {}),
            onEvent: (e) => {
              if (flags.json || e.type !== 'blob') return;
              if (e.status === 'exists') out(`Copying blob ${shortId(e.desc.digest)} skipped: already exists`);
              else if (e.status === 'done' || e.status === 'mounted') out(`Copying blob ${shortId(e.desc.digest)} ${e.status === 'mounted' ? 'mounted' : 'done'}`);
            },
          });
          const attached = await copyAttached(src, dst, result.root, flags.referrers);
          if (flags.json) return void printJson({ source: srcArg, destination: dstArg, digest: result.root.digest, sourceDigest: result.sourceDigest, transferred: result.transferred, attached });
          if (attached && attached.tags + attached.referrers + attached.simpleSignatures > 0) out(`Copying attachments: ${attached.tags} signature tag(s), ${attached.referrers} referrer(s), ${attached.simpleSignatures} simple signature(s)`);
          out(`Writing manifest to image destination`);
          out(`Digest: ${result.root.digest}`);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
