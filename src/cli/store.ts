import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { Exit, humanSize, out, printJson, run, shortId } from './common.js';

export function registerStore(program: Command): void {
  const store = program.command('store').description('maintain the local image store ($BERTH_HOME)');
  store
    .command('verify')
    .description('rehash every blob, check every image has all its blobs, and list partial downloads')
    .option('--json', 'machine-readable output')
    .action(
      run('store verify', async (flags: { json?: boolean }) => {
        const local = new LocalStore();
        const r = await local.verify();
        if (flags.json) printJson(r);
        else {
          for (const d of r.corrupt) out(`corrupt: ${d} (its bytes no longer hash to its name)`);
          for (const m of r.missing) out(`missing: ${m.digest} (needed by ${m.image})`);
          for (const p of r.partial) out(`partial: ${p.digest} (${humanSize(p.size)} of an interrupted pull${p.inUse ? ', being downloaded now' : ''}; the next pull resumes it, berth store prune removes it)`);
          out(`${r.checked} blobs checked, ${r.corrupt.length} corrupt, ${r.missing.length} missing, ${r.partial.length} partial download(s)`);
          if (r.corrupt.length + r.missing.length > 0) out('Remove the affected images with `berth rmi` and pull them again.');
        }
        return r.corrupt.length + r.missing.length > 0 ? Exit.integrity : Exit.ok;
      }),
    );
  store
    .command('prune')
    .description('remove partial downloads no pull is using, and blobs no image needs (older than an hour)')
    .option('--json', 'machine-readable output')
    .action(
      run('store prune', async (flags: { json?: boolean }) => {
        const { partial, unreferenced } = await new LocalStore().prune();
        const reclaimed = [...partial, ...unreferenced].reduce((a, b) => a + b.size, 0);
        if (flags.json) return void printJson({ partial: partial.map((p) => ({ digest: p.digest, size: p.size })), unreferenced, reclaimed });
        for (const p of partial) out(`Deleted partial download: ${shortId(p.digest)} (${humanSize(p.size)})`);
        for (const b of unreferenced) out(`Deleted unreferenced blob: ${shortId(b.digest)} (${humanSize(b.size)})`);
        out(`Total reclaimed space: ${humanSize(reclaimed)}`);
      }),
    );
  store
    .command('path')
    .description('print where the local store is')
    .action(run('store path', async () => void out(new LocalStore().home)));
}
