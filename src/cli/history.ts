import type { Command } from 'commander';
import type { TagHistory } from '../registry/history.js';
import { columns, getJson } from './operator.js';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('every move of a tag: from which digest to which, when, and by whom')
    .argument('<ref>', 'REPO:TAG')
    .option('--registry <host[:port]>', 'the berth serve to ask', 'localhost:5000')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, flags: { registry: string; insecure?: boolean; json?: boolean }) => {
      const i = ref.lastIndexOf(':');
      if (i <= 0 || ref.slice(i).includes('/')) throw new Error(`"${ref}" is not REPO:TAG (e.g. berth history team/app:latest)`);
      const [repo, tag] = [ref.slice(0, i), ref.slice(i + 1)];
      const h = await getJson<TagHistory>(flags.registry, `/berth/v1/repositories/${repo}/tags/${encodeURIComponent(tag)}/history`, [`repository:${repo}:pull`], flags.insecure);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
        return;
      }
      const rows = h.moves.map((m) => [m.at, m.from ?? '-', m.to ?? '(deleted)', m.actor ?? '-']);
      const now = h.current ? `now ${h.current}` : 'now deleted';
      process.stdout.write(`${h.repository}:${h.tag}${h.immutable ? ' (immutable)' : ''}: ${now}\n${columns(['WHEN', 'FROM', 'TO', 'BY'], rows)}\n`);
    });
}
