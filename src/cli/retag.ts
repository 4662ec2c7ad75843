import type { Command } from 'commander';
import type { Tag } from '../oci/name.js';
import { formatReference, identifierOf, parseReference, type Reference } from '../oci/reference.js';
import { clientFor, openSink, openSource } from '../transport/location.js';
import { noReferrersOption } from './attached.js';
import { clientOptions, out, printJson, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { copyWithAttachments } from './copy.js';

interface RetagFlags extends ClientFlags {
  referrers?: boolean;
}

/** A bare tag (`v2`), as opposed to a reference (`host/other:v2`). */
const TAG_ONLY = /^[\w][\w.-]{0,127}$/;

export function registerRetag(program: Command): void {
  noReferrersOption(clientOptions(
    program
      .command('retag')
      .argument('<src>', 'HOST/REPO:TAG or HOST/REPO@DIGEST on a registry')
      .argument('<new>', 'a tag of the same repository (v2), or HOST/OTHER:TAG on the same registry'),
  ))
    .description('tag an image on its registry without pulling it: manifest GET and PUT; into another repository, blobs are mounted')
    .action(
      run('retag', async (srcArg: string, newArg: string, flags: RetagFlags) => {
        const from = parseReference(srcArg.replace(/^docker:\/\//, ''));
        const to = target(from, newArg.replace(/^docker:\/\//, ''));
        const ctx = context(flags);
        try {
          const client = clientFor(ctx, from.registry);
          let digest: string;
          if (to.repository === from.repository) {
            // The same repository holds every blob already: the manifest's bytes under a new tag are all it takes.
            const m = await client.getManifest(from.repository, identifierOf(from));
            digest = await client.putManifest(to.repository, to.tag!, m);
          } else {
            const src = await openSource(ctx, { kind: 'remote', ref: from });
            try {
              digest = (await copyWithAttachments(src, await openSink(ctx, { kind: 'remote', ref: to }), { json: true, ...flags }, undefined)).result.root.digest;
            } finally {
              await src.close();
            }
          }
          if (flags.json) return void printJson({ source: formatReference(from), reference: formatReference(to), digest });
          out(`${formatReference(to)}: digest: ${digest}`);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

function target(from: Reference, input: string): Reference & { tag: Tag } {
  if (TAG_ONLY.test(input)) return { registry: from.registry, repository: from.repository, tag: input as Tag };
  const to = parseReference(input);
  if (to.digest !== undefined || to.tag === undefined) throw new UsageError(`${input}: the new name needs a tag (a digest is not something one can tag with)`);
  if (to.registry !== from.registry) throw new UsageError(`${input} is on ${to.registry}, not ${from.registry}: retag stays on one registry; use berth copy ${formatReference(from)} ${input}`);
  return { ...to, tag: to.tag };
}
