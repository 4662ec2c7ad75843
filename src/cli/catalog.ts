import type { Command } from 'commander';
import { normaliseRegistryHost } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, out, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { flatten, printJsonArray } from './json-stream.js';

export function registerCatalog(program: Command): void {
  clientOptions(program.command('catalog').argument('<registry>', 'host[:port]'))
    .description('list the repositories of a registry, page by page as the registry sends them')
    .action(
      run('catalog', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        try {
          const pages = clientFor(ctx, normaliseRegistryHost(input)).catalogPages();
          if (flags.json) return void (await printJsonArray(flatten(pages)));
          for await (const page of pages) for (const r of page) out(r);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}
