import type { Command } from 'commander';
import { apiHost, familiarReference, formatReference, parseReference } from '../oci/reference.js';
import { out, printJson, run } from './common.js';

export function registerRef(program: Command): void {
  program
    .command('ref')
    .argument('<refs...>', 'image references as you would type them')
    .description('print references normalised the way docker reads them (alpine = docker.io/library/alpine:latest)')
    .option('--json', 'the parts: registry, API host, repository, tag, digest')
    .action(
      run('ref', async (inputs: string[], flags: { json?: boolean }) => {
        const refs = inputs.map((i) => parseReference(i));
        if (flags.json) {
          return void printJson(refs.map((r, i) => ({ input: inputs[i], normalized: formatReference(r), familiar: familiarReference(r), apiHost: apiHost(r.registry), ...r })));
        }
        for (const r of refs) out(formatReference(r));
      }),
    );
}
