import type { Command } from 'commander';
import { run } from './common.js';
import { bytes, localOptions, type LocalFlags } from './operator.js';

export function registerGc(program: Command): void {
  localOptions(program.command('gc'))
    .description('collect garbage (and apply retention rules) beside a running berth serve (sizes in binary units: 1 KiB = 1024 B)')
    .option('--dry-run', 'print what would be deleted and how many bytes it frees; delete nothing')
    .option('--json', 'machine-readable output')
    .action(
      run('gc', async (flags: LocalFlags & { dryRun?: boolean; json?: boolean }) => {
      const { openLocalRegistry } = await import('./local-registry.js');
      const { collectGarbage } = await import('../registry/gc.js');
      const { ctx, close } = await openLocalRegistry(flags);
      try {
        const report = await collectGarbage(ctx, { dryRun: flags.dryRun ?? false });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const verb = report.dryRun ? 'would delete' : 'deleted';
        const lines = [
          ...report.retention.map((a) => `${verb} tag ${a.repository}:${a.tag} (${a.digest}, retention)`),
          ...report.manifests.map((m) => `${verb} untagged manifest ${m.repository}@${m.digest} (${bytes(m.size)})`),
          ...report.blobs.map((b) => `${verb} blob ${b.digest} (${bytes(b.size)})`),
          ...(report.blobsTotal > report.blobs.length ? [`... and ${report.blobsTotal - report.blobs.length} more blob(s) (a report names the first ${report.blobs.length})`] : []),
          `${report.dryRun ? 'would free' : 'freed'} ${bytes(report.freedBytes)} in ${report.blobsTotal} blob(s)${report.dryRun ? '' : `; removed ${report.linksRemoved} unreferenced link(s)`}`,
        ];
        const w = report.waiting;
        if (w.blobs > 0) {
          const grace = formatDuration(report.graceMs);
          lines.push(`${w.blobs} unreferenced blob(s), ${bytes(w.bytes)}, wait for the grace period (gc.grace, ${grace}) to end; a later run frees them`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await close();
      }
      }),
    );
}

/** 3600000 -> 1h, the way gc.grace is written in the config. */
function formatDuration(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}
