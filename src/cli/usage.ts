import type { Command } from 'commander';
import type { UsageReport, WhatIfDelete } from '../registry/usage.js';
import { run, UsageError } from './common.js';
import { bytes, columns, getJson } from './operator.js';

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description("a registry's storage: stored vs logical bytes, shared and unique bytes per repository and image (binary units: 1 KiB = 1024 B)")
    .argument('[repo]', 'show one repository with its images')
    .option('--registry <host[:port]>', 'the berth serve to ask', 'localhost:5000')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--what-if-delete <ref>', 'what deleting this tag or digest of REPO would free')
    .option('--json', 'machine-readable output')
    .action(
      run('usage', async (repo: string | undefined, flags: { registry: string; insecure?: boolean; whatIfDelete?: string; json?: boolean }) => {
      const scopes = repo ? [`repository:${repo}:pull`] : ['registry:catalog:*'];
      if (flags.whatIfDelete !== undefined) {
        if (!repo) throw new UsageError('--what-if-delete needs the repository too: berth usage REPO --what-if-delete TAG');
        const w = await getJson<WhatIfDelete>(flags.registry, `/berth/v1/usage?repo=${encodeURIComponent(repo)}&whatIfDelete=${encodeURIComponent(flags.whatIfDelete)}`, scopes, flags.insecure);
        print(flags.json, w, () => `deleting ${w.repository}@${w.digest} (tags: ${w.tagsRemoved.join(', ') || 'none'}) would free ${bytes(w.freedBytes)}\n${w.note}`);
        return;
      }
      const query = repo ? `?repo=${encodeURIComponent(repo)}` : '';
      const r = await getJson<UsageReport>(flags.registry, `/berth/v1/usage${query}`, scopes, flags.insecure);
      print(flags.json, r, () => human(r));
      }),
    );
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

function human(r: UsageReport): string {
  const saved = r.logicalBytes - r.storedBytes;
  const lines = [
    `stored ${bytes(r.storedBytes)} in ${r.storedObjects} object(s); images add up to ${bytes(r.logicalBytes)}${saved > 0 ? ` (sharing saves ${bytes(saved)})` : ''}`,
    '',
    columns(
      ['REPOSITORY', 'LOGICAL', 'STORED', 'SHARED', 'UNIQUE', 'IMAGES', 'TAGS', 'LAST PUSHED', 'LAST PULLED'],
      r.repositories.map((p) => [p.name, bytes(p.logicalBytes), bytes(p.storedBytes), bytes(p.sharedBytes), bytes(p.uniqueBytes), String(p.manifests), String(p.tags), p.lastPushed ?? '-', p.lastPulled ?? '-']),
    ),
  ];
  for (const p of r.repositories.filter((x) => x.images)) {
    lines.push('', columns(
      ['IMAGE', 'TAGS', 'LOGICAL', 'SHARED', 'UNIQUE', 'LAST PUSHED', 'LAST PULLED'],
      p.images!.map((i) => [i.digest.slice(0, 19), i.tags.join(',') || '<none>', bytes(i.logicalBytes), bytes(i.sharedBytes), bytes(i.uniqueBytes), i.lastPushed, i.lastPulled ?? '-']),
    ));
  }
  return lines.join('\n');
}
