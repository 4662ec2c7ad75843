import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { computeUsage } from '../local/usage.js';
import { familiarName } from '../oci/reference.js';
import { humanSize, out, printJson, run, shortId, table } from './common.js';

export function registerDf(program: Command): void {
  program
    .command('df')
    .description('disk usage of the local store: why it is smaller than the sum of image sizes')
    .option('-v, --verbose', 'per image: size, shared size, unique size')
    .option('--json', 'machine-readable output (bytes)')
    .action(
      run('df', async (flags: { verbose?: boolean; json?: boolean }) => {
        const store = new LocalStore();
        const u = await computeUsage(store);
        const saved = Math.max(0, u.sumOfSizes - (u.diskBytes - u.unreferenced.bytes - u.partial.bytes));
        if (flags.json) {
          return void printJson({
            images: u.images.map((r) => ({ reference: r.image.name, digest: r.image.descriptor.digest, size: r.size, shared: r.shared, unique: r.unique })),
            sumOfSizes: u.sumOfSizes,
            diskBytes: u.diskBytes,
            blobs: u.blobs,
            savedBySharing: saved,
            unreferenced: u.unreferenced,
            partial: u.partial,
          });
        }
        if (flags.verbose) {
          out(
            table(
              ['REPOSITORY', 'TAG', 'DIGEST', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE'],
              u.images.map((r) => [familiarName(r.image.ref), r.image.ref.tag ?? '<none>', shortId(r.image.descriptor.digest), humanSize(r.size), humanSize(r.shared), humanSize(r.unique)]),
            ),
          );
          out();
          out('SIZE is every blob the image needs. SHARED SIZE is the part at least one other image needs too;');
          out('UNIQUE SIZE is the rest: what `berth rmi` of that image would free.');
          out();
        }
        out(`Images:              ${u.images.length}`);
        out(`Sum of image sizes:  ${humanSize(u.sumOfSizes).padStart(8)}   (a blob used by N images is counted N times)`);
        out(`Disk used:           ${humanSize(u.diskBytes).padStart(8)}   (${u.blobs} blobs, each stored once by its digest${u.partial.count ? ', and partial downloads' : ''})`);
        out(`Saved by sharing:    ${humanSize(saved).padStart(8)}`);
        if (u.unreferenced.count > 0) out(`Unreferenced:        ${humanSize(u.unreferenced.bytes).padStart(8)}   (${u.unreferenced.count} blobs no image needs; berth store prune removes them)`);
        if (u.partial.count > 0) out(`Partial downloads:   ${humanSize(u.partial.bytes).padStart(8)}   (${u.partial.count} interrupted; the next pull resumes them, berth store prune removes them)`);
        out('Sizes in decimal units (1 kB = 1000 B), as docker prints them.');
      }),
    );
}
