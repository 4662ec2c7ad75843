import type { Command } from 'commander';
import { normaliseRegistryHost, parseReference } from '../oci/reference.js';
import type { TagHistory } from '../registry/history.js';
import { run, UsageError } from './common.js';
import { columns, getJson } from './operator.js';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('every move of a tag: from which digest to which, when, and by whom (a berth serve only)')
    .argument('<ref>', 'REGISTRY/REPO:TAG, as every other command takes it (e.g. localhost:5000/team/app:latest)')
    .option('--registry <host[:port]>', 'the registry, when <ref> is only REPO:TAG')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--json', 'machine-readable output')
    .action(
      run('history', async (input: string, flags: { registry?: string; insecure?: boolean; json?: boolean }) => {
        const ref = parseReference(flags.registry ? `${normaliseRegistryHost(flags.registry)}/${input}` : input);
        if (ref.digest) throw new UsageError(`"${input}" names a digest; a history follows a tag (REGISTRY/REPO:TAG)`);
        const repo = ref.repository;
        const h = await getJson<TagHistory>(ref.registry, `/berth/v1/repositories/${repo}/tags/${encodeURIComponent(ref.tag!)}/history`, [`repository:${repo}:pull`], flags.insecure);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
          return;
        }
        const rows = h.moves.map((m) => [m.at, m.from ?? '-', m.to ?? '(deleted)', m.actor ?? '-']);
        const now = h.current ? `now ${h.current}` : 'now deleted';
        process.stdout.write(`${h.repository}:${h.tag}${h.immutable ? ' (immutable)' : ''}: ${now}\n${columns(['WHEN', 'FROM', 'TO', 'BY'], rows)}\n`);
      }),
    );
}
