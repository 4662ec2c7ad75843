import type { Command } from 'commander';
import type { RegistryClient } from '../client/registry.js';
import type { Digest } from '../oci/digest.js';
import { familiarName, familiarReference, parseReference } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, NotFoundError, out, printJson, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { confirm } from './prompt.js';

interface DeleteFlags extends ClientFlags {
  manifest?: boolean;
  yes?: boolean;
}

/** Tags checked at once when listing what a manifest deletion takes with it. */
const HEAD_CONCURRENCY = 8;

export function registerDelete(program: Command): void {
  clientOptions(program.command('delete').argument('<ref>', 'host/repo:tag (that tag only) or host/repo@digest (the manifest, with every tag on it)'))
    .description('delete a tag from its registry; a digest reference or --manifest deletes the manifest and every tag pointing at it')
    .option('--manifest', 'delete the manifest the tag points to, and with it every other tag that points there')
    .option('-y, --yes', 'delete a manifest without asking (scripts)')
    .action(
      run('delete', async (input: string, flags: DeleteFlags) => {
        const ref = parseReference(input);
        const ctx = context(flags);
        const client = clientFor(ctx, ref.registry);
        try {
          if (!ref.digest && !flags.manifest) {
            await client.deleteTag(ref.repository, ref.tag!);
            if (flags.json) return void printJson({ untagged: [ref.tag], deleted: null });
            return void out(`Untagged: ${familiarReference(ref)}`);
          }
          const digest = ref.digest ?? (await client.resolve(ref.repository, ref.tag!))?.digest;
          if (!digest) throw new NotFoundError(`${familiarReference(ref)} not found`);
          const tags = await tagsPointingAt(client, ref.repository, digest);
          const name = familiarName(ref);
          if (!flags.yes) {
            const what = `${name}@${digest} and ${tags.length ? `its tag(s) ${tags.join(', ')}` : 'no tags'}`;
            if (!process.stdin.isTTY) throw new UsageError(`deleting the manifest removes ${what}; nothing was deleted: confirm with --yes`);
            if (!(await confirm(`Delete the manifest ${what}? [y/N] `))) return void out('Nothing deleted.');
          }
          await client.deleteManifest(ref.repository, digest);
          if (flags.json) return void printJson({ untagged: tags, deleted: digest });
          for (const t of tags) out(`Untagged: ${name}:${t}`);
          out(`Deleted: ${name}@${digest}`);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

/** The registry API has no reverse lookup: list the tags and HEAD each one, a few at a time. */
async function tagsPointingAt(client: RegistryClient, repo: string, digest: Digest): Promise<string[]> {
  const tags = await client.listTags(repo);
  const hits: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(HEAD_CONCURRENCY, tags.length) }, async () => {
      while (next < tags.length) {
        const tag = tags[next++]!;
        if ((await client.resolve(repo, tag))?.digest === digest) hits.push(tag);
      }
    }),
  );
  return hits.sort();
}
