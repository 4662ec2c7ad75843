import type { Command } from 'commander';
import { formatReference, parseReference, type Reference } from '../oci/reference.js';
import { copyImage } from '../transport/copy.js';
import { DiscardSink } from '../transport/discard.js';
import { openSource } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { clientOptions, humanSize, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';

interface WarmFlags extends ClientFlags {
  registry: string;
  platform?: string;
}

export function registerProxy(program: Command): void {
  const proxy = program.command('proxy').description('a berth serve that is a pull-through cache (proxy: in berth.yaml)');
  clientOptions(proxy.command('warm').argument('<ref...>', 'images as you would pull them: alpine:3.20, ghcr.io/org/app:1.4'))
    .description('pull images through the cache so they are there before they are needed (an upstream outage, a rate limit)')
    .requiredOption('--registry <host[:port]>', 'the cache (berth serve with proxy:)')
    .option('--platform <os/arch[/variant]>', 'only this platform of a multi-platform image (default: all of them)')
    .action(
      run('proxy warm', async (refs: string[], flags: WarmFlags) => {
        const ctx = context(flags);
        const results = [];
        try {
          for (const input of refs) {
            const ref = parseReference(input);
            const sink = new DiscardSink();
            // The cache serves upstream `docker.io/library/alpine` as its own repository of that name (the path-prefix form).
            const through: Reference = { ...ref, registry: flags.registry, repository: `${ref.registry}/${ref.repository}` as Reference['repository'] };
            const r = await copyImage(await openSource(ctx, { kind: 'remote', ref: through }), sink, {
              all: flags.platform === undefined,
              ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
            });
            results.push({ reference: formatReference(ref), digest: r.sourceDigest, blobs: sink.read.blobs, bytes: sink.read.bytes });
            if (!flags.json) out(`${formatReference(ref)}: ${r.sourceDigest} cached (${sink.read.blobs} blobs, ${humanSize(sink.read.bytes)})`);
          }
        } finally {
          await ctx.http.close();
        }
        if (flags.json) printJson(results);
      }),
    );
}
