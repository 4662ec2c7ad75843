import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { Exit, out, printJson, run } from './common.js';

export function registerStore(program: Command): void {
  const store = program.command('store').description('maintain the local image store ($BERTH_HOME)');
  store
    .command('verify')
    .description('rehash every blob and check every image has all its blobs')
    .option('--json', 'machine-readable output')
    .action(
      run('store verify', async (flags: { json?: boolean }) => {
        const local = new LocalStore();
        const r = await local.verify();
        if (flags.json) printJson(r);
        else {
          for (const d of r.corrupt) out(`corrupt: ${d} (its bytes no longer hash to its name)`);
          for (const m of r.missing) out(`missing: ${m.digest} (needed by ${m.image})`);
          out(`${r.checked} blobs checked, ${r.corrupt.length} corrupt, ${r.missing.length} missing`);
          if (r.corrupt.length + r.missing.length > 0) out('Remove the affected images with `berth rmi` and pull them again.');
        }
        return r.corrupt.length + r.missing.length > 0 ? Exit.integrity : Exit.ok;
      }),
    );
  store
    .command('path')
    .description('print where the local store is')
    .action(run('store path', async () => void out(new LocalStore().home)));
}
