import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { artifactManifestOf, EMPTY_CONFIG } from '../sign/artifact.js';
import { pushArtifact } from '../transport/attachments.js';
import { CREATED_ANNOTATION, TITLE_ANNOTATION } from '../sign/media-types.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { collect, keyValues } from './options.js';
import { openTarget } from './target.js';

const DEFAULT_FILE_TYPE = 'application/vnd.oci.image.layer.v1.tar';

interface AttachFlags extends ClientFlags {
  artifactType: string;
  annotation?: string[];
}

export function registerAttach(program: Command): void {
  clientOptions(program.command('attach').argument('<ref>', 'the image to attach to').argument('<files...>', 'FILE[:MEDIATYPE] (as oras attach)'))
    .description('attach files to an image as an OCI 1.1 artifact with `subject` (the referrers tag on registries without the referrers API)')
    .requiredOption('--artifact-type <type>', 'e.g. application/spdx+json')
    .option('--annotation <key=value>', 'manifest annotation; repeatable', collect)
    .action(
      run('attach', async (input: string, files: string[], flags: AttachFlags) => {
        const ctx = context(flags);
        const target = await openTarget(ctx, input);
        try {
          const layers = await Promise.all(files.map(describeFile));
          const manifest = artifactManifestOf(flags.artifactType, layers.map((l) => l.desc), target.subject, {
            [CREATED_ANNOTATION]: new Date().toISOString(),
            ...keyValues(flags.annotation, '--annotation'),
          });
          // Files stream from disk; the config is the two bytes `{}`.
          for (const l of layers) if (!(await target.store.hasBlob(l.desc))) await target.store.putBlob(l.desc, async () => createReadStream(l.path));
          const how = await pushArtifact(target.store, { manifest, blobs: [EMPTY_CONFIG] }, { subject: target.subject.digest });
          if (flags.json) return void printJson({ reference: input, subject: target.subject.digest, digest: manifest.digest, via: how === 'api' ? 'referrers API' : 'referrers tag' });
          out(`Attached to ${target.subject.digest}`);
          out(`Digest: ${manifest.digest} (${how === 'api' ? 'referrers API' : 'referrers tag'})`);
        } finally {
          await target.close();
          await ctx.http.close();
        }
      }),
    );
}

async function describeFile(spec: string): Promise<{ desc: Descriptor; path: string }> {
  const colon = spec.lastIndexOf(':');
  const [path, mediaType] = colon > 0 && spec.slice(colon + 1).includes('/') ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, DEFAULT_FILE_TYPE];
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const { size } = await stat(path);
  return { path, desc: { mediaType, digest: `sha256:${hash.digest('hex')}` as Digest, size, annotations: { [TITLE_ANNOTATION]: basename(path) } } };
}
