import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { parseReference } from '../oci/reference.js';
import { copyImage } from '../transport/copy.js';
import { DockerArchiveSource, extractArchive } from '../transport/docker-archive.js';
import { localSink } from '../transport/local.js';
import { out, printJson, run } from './common.js';

export function registerLoad(program: Command): void {
  program
    .command('load')
    .argument('[file]', 'a docker-save archive (docker save, berth save, skopeo docker-archive:)')
    .option('-i, --input <file>', 'the archive, as docker load takes it')
    .description('load every image of a docker-save archive into the local store, under the names it records')
    .option('--json', 'machine-readable output')
    .action(
      run('load', async (fileArg: string | undefined, flags: { input?: string; json?: boolean }) => {
        const file = fileArg ?? flags.input;
        if (!file) throw new Error('name the archive: berth load FILE (or -i FILE)');
        const store = new LocalStore();
        const archive = await extractArchive(file);
        const loaded: { reference?: string; digest: string }[] = [];
        try {
          for (const entry of archive.entries) {
            const src = await DockerArchiveSource.of(archive, entry);
            const names = entry.RepoTags ?? [];
            for (const tag of names) {
              const ref = parseReference(tag);
              const { root } = await copyImage(src, localSink(store, ref));
              loaded.push({ reference: tag, digest: root.digest });
              if (!flags.json) out(`Loaded image: ${tag}`);
            }
            if (names.length === 0) {
              const digest = (await src.root()).digest;
              loaded.push({ digest });
              if (!flags.json) process.stderr.write(`berth load: skipped an image without a name (config ${entry.Config}): the local store keeps images by name; save it with one\n`);
            }
          }
        } finally {
          await archive.remove();
        }
        if (flags.json) printJson(loaded);
      }),
    );
}
