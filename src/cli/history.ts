import type { Command } from 'commander';
import { normaliseRegistryHost, parseReference } from '../oci/reference.js';
import type { TagHistory } from '../registry/history.js';
import { run, UsageError } from './common.js';
import { columns, getJson } from './operator.js';

/**
 * `tag-history`, and `history` for one release more: docker users read
 * `history` as docker's (how an image was built), which is `berth image
 * history`, so the old name warns on stderr and says which one they want.
 */
export function registerHistory(program: Command): void {
  tagHistory(program.command('tag-history'), 'tag-history').description('every move of a tag: from which digest to which, when, and by whom (a berth serve only)');
  tagHistory(program.command('history'), 'history', () =>
    process.stderr.write('berth history: deprecated, use `berth tag-history` (this name goes away in the next release; `berth image history` shows how an image was built)\n'),
  ).description('deprecated name of tag-history (for docker\'s history, see `berth image history`)');
}

function tagHistory(cmd: Command, name: string, warn?: () => void): Command {
  return cmd
    .argument('<ref>', 'REGISTRY/REPO:TAG, as every other command takes it (e.g. localhost:5000/team/app:latest)')
    .option('--registry <host[:port]>', 'the registry, when <ref> is only REPO:TAG')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--json', 'machine-readable output')
    .action(
      run(name, async (input: string, flags: { registry?: string; insecure?: boolean; json?: boolean }) => {
        warn?.();
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
