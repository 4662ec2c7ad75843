import type { Command } from 'commander';
import { familiarName, parseReference } from '../oci/reference.js';
import { RemoteError } from '../client/errors.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, context, out, printJson, run, type ClientFlags } from './common.js';

export function registerDelete(program: Command): void {
  clientOptions(program.command('delete').argument('<ref>', 'host/repo:tag or host/repo@digest'))
    .description('delete a manifest from its registry (by digest: every tag pointing at it goes too)')
    .action(
      run('delete', async (input: string, flags: ClientFlags) => {
        const ref = parseReference(input);
        const ctx = context(flags);
        const client = clientFor(ctx, ref.registry);
        // The API deletes by digest only; resolve a tag first, as skopeo does.
        const digest = ref.digest ?? (await client.resolve(ref.repository, ref.tag!))?.digest;
        if (!digest) throw new RemoteError(`${familiarName(ref)}:${ref.tag} not found`, 404, 'MANIFEST_UNKNOWN');
        await client.deleteManifest(ref.repository, digest);
        await ctx.http.close();
        if (flags.json) return void printJson({ deleted: digest });
        out(`Deleted: ${familiarName(ref)}@${digest}`);
      }),
    );
}
