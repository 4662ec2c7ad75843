import type { Command } from 'commander';
import { normaliseRegistryHost } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, context, out, printJson, run, type ClientFlags } from './common.js';

export function registerCatalog(program: Command): void {
  clientOptions(program.command('catalog').argument('<registry>', 'host[:port]'))
    .description('list the repositories of a registry')
    .action(
      run('catalog', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        const repos = await clientFor(ctx, normaliseRegistryHost(input)).catalog();
        await ctx.http.close();
        if (flags.json) return void printJson(repos);
        for (const r of repos) out(r);
      }),
    );
}
