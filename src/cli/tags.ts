import type { Command } from 'commander';
import { parseReference } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, context, out, printJson, run, type ClientFlags } from './common.js';

export function registerTags(program: Command): void {
  clientOptions(program.command('tags').argument('<repo>', 'repository, e.g. alpine or host:5000/team/app'))
    .description("list a repository's tags in its registry")
    .action(
      run('tags', async (input: string, flags: ClientFlags) => {
        const ref = parseReference(input, { defaultTag: false });
        const ctx = context(flags);
        const tags = await clientFor(ctx, ref.registry).listTags(ref.repository);
        await ctx.http.close();
        if (flags.json) return void printJson(tags);
        for (const t of tags) out(t);
      }),
    );
}
