import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hexOf } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { TITLE_ANNOTATION } from '../sign/media-types.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { openTarget } from './target.js';

export function registerArtifact(program: Command): void {
  const artifact = program.command('artifact').description('OCI artifacts (what `berth attach` and `oras` push)');
  clientOptions(artifact.command('pull').argument('<ref>', 'REF@DIGEST of the artifact (from `berth referrers`)'))
    .description('download the files of an artifact into a directory, each verified against its digest')
    .requiredOption('-o, --output <dir>', 'directory to write the files into')
    .action(
      run('artifact pull', async (input: string, flags: ClientFlags & { output: string }) => {
        const ctx = context(flags);
        const target = await openTarget(ctx, input);
        try {
          const { layers } = parseManifest(target.manifest!.bytes, target.manifest!.mediaType);
          await mkdir(flags.output, { recursive: true });
          const written: { file: string; digest: string; size: number }[] = [];
          for (const l of layers) {
            // A title is a file name, never a path: whatever the artifact says, it lands inside the directory.
            const title = basename(l.annotations?.[TITLE_ANNOTATION] ?? '');
            const file = join(flags.output, title && title !== '.' && title !== '..' ? title : hexOf(l.digest));
            await pipeline(await target.store.blob(l), createWriteStream(file));
            written.push({ file, digest: l.digest, size: l.size });
          }
          if (flags.json) return void printJson({ reference: input, digest: target.subject.digest, files: written });
          for (const w of written) out(`${w.file}  ${w.digest}`);
        } finally {
          await target.close();
          await ctx.http.close();
        }
      }),
    );
}
