import type { Command } from 'commander';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Exit, run } from './common.js';
import { bytes, localOptions, type LocalFlags } from './operator.js';

export function registerFsck(program: Command): void {
  localOptions(program.command('fsck'))
    .description('rehash every stored blob and check the index against the store')
    .option('--repair', 'quarantine corrupt and orphaned blobs, and unindex corrupt ones so the next push replaces them')
    .option('--quarantine <dir>', 'where --repair keeps what it removes (default: <data>/quarantine)')
    .option('--json', 'machine-readable output')
    .action(
      run('fsck', async (flags: LocalFlags & { repair?: boolean; quarantine?: string; json?: boolean }) => {
      const { openLocalRegistry } = await import('./local-registry.js');
      const { fsck } = await import('../registry/fsck.js');
      const { ctx, config, close } = await openLocalRegistry(flags);
      const dir = resolve(flags.quarantine ?? join(config.data, 'quarantine'));
      try {
        const report = await fsck(ctx, {
          repair: flags.repair ?? false,
          quarantine: async (digest, bytes) => {
            mkdirSync(dir, { recursive: true });
            await pipeline(bytes, createWriteStream(join(dir, `${digest.replace(':', '-')}-${Date.now()}`)));
          },
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const p of report.problems) {
            const used = p.usedBy.length ? `; used by ${p.usedBy.join(', ')}` : '';
            process.stdout.write(`${p.kind === 'orphan' ? 'orphaned' : p.kind} ${p.digest}: ${p.detail}${used}${p.repaired ? ` (quarantined in ${dir})` : ''}\n`);
          }
          for (const l of report.leftovers) process.stdout.write(`leftover uploads/${l.name}: ${l.detail}${l.repaired ? ' (removed)' : ''}\n`);
          for (const f of report.flagged) process.stdout.write(`flagged ${f.digest} while serving it at ${f.at}: ${f.reason} (checked above)\n`);
          if (report.pending) process.stdout.write(`${report.pending} blob(s) claimed by a commit but not stored yet (in flight, or cut short by a crash: GC removes them after its grace period)\n`);
          process.stdout.write(`checked ${report.checked} blob(s), ${bytes(report.checkedBytes)}: ${report.problems.length} problem(s), ${report.leftovers.length} leftover(s)\n`);
          if (report.problems.some((p) => !p.repaired) || report.leftovers.some((l) => !l.repaired)) {
            process.stdout.write('run berth fsck --repair to quarantine corrupt and orphaned blobs and remove leftovers, then push the images named above again\n');
          }
        }
        return report.problems.some((p) => !p.repaired) || report.leftovers.some((l) => !l.repaired) ? Exit.integrity : Exit.ok;
      } finally {
        await close();
      }
      }),
    );
}
