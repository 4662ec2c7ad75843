import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { computeUsage } from '../local/usage.js';
import { parseManifest } from '../oci/manifest.js';
import { familiarName } from '../oci/reference.js';
import { humanSize, out, printJson, run, shortId, since, table } from './common.js';

export function registerImages(program: Command): void {
  program
    .command('images')
    .description('list the images in the local store')
    .option('--json', 'machine-readable output')
    .action(
      run('images', async (flags: { json?: boolean }) => {
        const store = new LocalStore();
        const usage = await computeUsage(store);
        const rows = await Promise.all(
          usage.images.map(async ({ image, size }) => ({
            repository: familiarName(image.ref),
            tag: image.ref.tag ?? '<none>',
            digest: image.repoDigest,
            created: await createdOf(store, image.descriptor.digest, image.descriptor.mediaType),
            size,
          })),
        );
        if (flags.json) return void printJson(rows);
        out(table(['REPOSITORY', 'TAG', 'DIGEST', 'CREATED', 'SIZE'], rows.map((r) => [r.repository, r.tag, shortId(r.digest), since(r.created), humanSize(r.size)])));
      }),
    );
}

async function createdOf(store: LocalStore, digest: Parameters<LocalStore['layout']['readSmallBlob']>[0], mediaType: string): Promise<string | undefined> {
  try {
    const facts = parseManifest(await store.layout.readSmallBlob(digest), mediaType);
    if (!facts.config) return undefined;
    return (JSON.parse((await store.layout.readSmallBlob(facts.config.digest)).toString('utf8')) as { created?: string }).created;
  } catch {
    return undefined;
  }
}
