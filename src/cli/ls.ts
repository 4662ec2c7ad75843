import type { Command } from 'commander';
import pLimit from 'p-limit';
import type { RegistryClient } from '../client/registry.js';
import { parseReference } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, out, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { flatten, printJsonArray } from './json-stream.js';

interface LsFlags extends ClientFlags {
  digests?: boolean;
}

/** HEADs in flight at once for `--digests`: a page of a thousand tags must not open a thousand requests. */
const RESOLVE_CONCURRENCY = 8;

export function registerLs(program: Command): void {
  clientOptions(program.command('ls').alias('tags').argument('<repo>', 'repository, e.g. alpine or host:5000/team/app'))
    .description("list a repository's tags in its registry, page by page as the registry sends them")
    .option('--digests', 'the digest each tag names, too (one HEAD request per tag)')
    .action(
      run('ls', async (input: string, flags: LsFlags) => {
        const ref = parseReference(input, { defaultTag: false });
        const ctx = context(flags);
        try {
          const client = clientFor(ctx, ref.registry);
          const pages = client.tagPages(ref.repository);
          const rows: AsyncIterable<(string | TagDigest)[]> = flags.digests ? withDigests(client, ref.repository, pages) : pages;
          if (flags.json) return void (await printJsonArray(flatten(rows)));
          for await (const page of rows) for (const line of textLines(page)) out(line);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

interface TagDigest {
  tag: string;
  digest: string;
}

async function* withDigests(client: RegistryClient, repo: string, pages: AsyncIterable<string[]>): AsyncGenerator<TagDigest[]> {
  const limit = pLimit(RESOLVE_CONCURRENCY);
  for await (const tags of pages) {
    yield await Promise.all(tags.map((tag) => limit(async () => ({ tag, digest: await digestOf(client, repo, tag) }))));
  }
}

/** A registry that answers HEAD without Docker-Content-Digest is asked for the manifest itself. */
async function digestOf(client: RegistryClient, repo: string, tag: string): Promise<string> {
  return (await client.resolve(repo, tag))?.digest ?? (await client.getManifest(repo, tag)).digest;
}

function textLines(page: (string | TagDigest)[]): string[] {
  const rows = page.map((r) => (typeof r === 'string' ? [r] : [r.tag, r.digest]));
  const width = Math.max(0, ...rows.map((r) => r[0]!.length));
  return rows.map((r) => (r.length === 1 ? r[0]! : `${r[0]!.padEnd(width)}   ${r[1]}`));
}
