import type { Command } from 'commander';
import type { UsageReport as RegistryUsage, WhatIfDelete } from '../registry/usage.js';
import type { CacheUsage } from '../proxy/usage.js';
import { run, UsageError } from './common.js';
import { bytes, columns, getJson, getJsonPage } from './operator.js';

/** The registry's figures; `cache` when it is a pull-through cache and the caller may see the totals. */
type UsageReport = RegistryUsage & { cache?: CacheUsage[] };

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
      // `usage` is asked for, not required: without it the registry leaves out shared and unique bytes.
      const scopes = repo ? [`repository:${repo}:pull,usage`] : ['registry:catalog:*', 'registry:usage:*'];
      if (flags.whatIfDelete !== undefined) {
        if (!repo) throw new UsageError('--what-if-delete needs the repository too: berth usage REPO --what-if-delete TAG');
        const w = await getJson<WhatIfDelete>(flags.registry, `/berth/v1/usage?repo=${encodeURIComponent(repo)}&whatIfDelete=${encodeURIComponent(flags.whatIfDelete)}`, scopes, flags.insecure);
        print(flags.json, w, () => `deleting ${w.repository}@${w.digest} (tags: ${w.tagsRemoved.join(', ') || 'none'}) would free ${bytes(w.freedBytes)}\n${w.note}`);
        return;
      }
      const r = await allPages(flags.registry, repo ? `/berth/v1/usage?repo=${encodeURIComponent(repo)}` : '/berth/v1/usage', scopes, flags.insecure);
      print(flags.json, r, () => human(r));
      }),
    );
}

/** The first page has the totals (when the caller may see them); later pages add repositories. */
async function allPages(registry: string, first: string, scopes: string[], insecure?: boolean): Promise<UsageReport> {
  let page = await getJsonPage<UsageReport>(registry, first, scopes, insecure);
  const report = page.value;
  while (page.next) {
    page = await getJsonPage<UsageReport>(registry, page.next, scopes, insecure);
    report.repositories.push(...page.value.repositories);
  }
  return report;
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

function human(r: UsageReport): string {
  const lines: string[] = [];
  if (r.storedBytes !== undefined && r.logicalBytes !== undefined) {
    const saved = r.logicalBytes - r.storedBytes;
    lines.push(`stored ${bytes(r.storedBytes)} in ${r.storedObjects} object(s); images add up to ${bytes(r.logicalBytes)}${saved > 0 ? ` (sharing saves ${bytes(saved)})` : ''}`, '');
  }
  lines.push(
    columns(
      ['REPOSITORY', 'LOGICAL', 'STORED', 'SHARED', 'UNIQUE', 'IMAGES', 'TAGS', 'LAST PUSHED', 'LAST PULLED'],
      r.repositories.map((p) => [p.name, bytes(p.logicalBytes), bytes(p.storedBytes), maybe(p.sharedBytes), maybe(p.uniqueBytes), String(p.manifests), String(p.tags), p.lastPushed ?? '-', p.lastPulled ?? '-']),
    ),
  );
  for (const p of r.repositories.filter((x) => x.images)) {
    lines.push('', columns(
      ['IMAGE', 'TAGS', 'SIGNED', 'LOGICAL', 'SHARED', 'UNIQUE', 'LAST PUSHED', 'LAST PULLED'],
      p.images!.map((i) => [i.digest.slice(0, 19), i.tags.join(',') || '<none>', i.signed ? 'yes' : 'no', bytes(i.logicalBytes), maybe(i.sharedBytes), maybe(i.uniqueBytes), i.lastPushed, i.lastPulled ?? '-']),
    ));
  }
  if (r.cache?.length) {
    lines.push('', 'pull-through cache: requests answered from the cache alone (SAVED), and those sent upstream', columns(
      ['UPSTREAM', 'REPOSITORIES', 'STORED', 'SAVED', 'UPSTREAM REQUESTS', 'FETCHED'],
      r.cache.map((c) => [c.namespace, String(c.repositories), bytes(c.storedBytes), String(c.hits), String(c.upstreamRequests), bytes(c.upstreamBytes)]),
    ));
  }
  if (r.repositories.some((p) => p.uniqueBytes === undefined)) lines.push('', 'SHARED and UNIQUE (-) need the usage permission on the repository: ask the registry\'s admin.');
  return lines.join('\n');
}

/** Shared and unique bytes are left out for callers without `usage`. */
const maybe = (n: number | undefined): string => (n === undefined ? '-' : bytes(n));
