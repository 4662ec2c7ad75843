import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatReference } from '../oci/reference.js';
import { clientOptions, Exit, run } from './common.js';
import { context } from './context.js';
import { imageReadOptions, limitsOf, openImage, type ImageFlags } from './scan-common.js';

interface SbomFlags extends ImageFlags {
  format: string;
  output?: string;
  attach?: boolean;
}

// Loaded on demand: the other verbs should not pay for the SBOM libraries at startup.
const FORMATS = {
  cyclonedx: async () => {
    const m = await import('../scan/sbom/cyclonedx.js');
    return { make: m.cycloneDx, mediaType: m.CYCLONEDX_MEDIA_TYPE };
  },
  spdx: async () => {
    const m = await import('../scan/sbom/spdx.js');
    return { make: m.spdxDocument, mediaType: m.SPDX_MEDIA_TYPE };
  },
} as const;

export function registerSbom(program: Command): void {
  imageReadOptions(clientOptions(program.command('sbom').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE')))
    .description('list what an image contains (OS and language packages with purls, licences and layers) as CycloneDX or SPDX JSON')
    .option('--format <format>', 'cyclonedx (1.6) or spdx (2.3)', 'cyclonedx')
    .option('-o, --output <file>', 'write the document here instead of stdout')
    .option('--attach', 'push the document to the registry as an OCI referrer of the image, so it travels with it')
    .action(
      run('sbom', async (input: string, flags: SbomFlags) => {
        const load = FORMATS[flags.format as keyof typeof FORMATS];
        if (!load) {
          process.stderr.write(`berth sbom: unknown --format "${flags.format}": use cyclonedx or spdx\n`);
          return Exit.usage;
        }
        const format = await load();
        const { takeInventory } = await import('../scan/inventory.js');
        const ctx = context(flags);
        const { src, image, ref } = await openImage(ctx, input, flags);
        try {
          const inventory = await takeInventory(image, { limits: limitsOf(flags) });
          for (const w of inventory.warnings) process.stderr.write(`warning: ${w}\n`);
          const name = ref ? formatReference({ registry: ref.registry, repository: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}) }) : src.description;
          const doc = format.make(inventory, { name, digest: image.digest });
          if (flags.output) await writeFile(flags.output, doc);
          else if (!flags.attach) process.stdout.write(`${doc}\n`);
          if (flags.attach) {
            if (!src.attachments) throw new Error(`--attach needs a registry, local:REF or oci:DIR; ${src.description} has no place for referrers`);
            // Issue 12's artifact push: the referrers API where the registry has it, else the sha256-<hex> tag.
            const [{ artifactManifest, blobOf }, { pushArtifact }, { CREATED_ANNOTATION }] = await Promise.all([import('../sign/artifact.js'), import('../transport/attachments.js'), import('../sign/media-types.js')]);
            const subject = { mediaType: image.manifestMediaType, digest: image.digest, size: image.manifestSize };
            const built = artifactManifest(format.mediaType, [blobOf(Buffer.from(doc), format.mediaType)], subject, { [CREATED_ANNOTATION]: new Date().toISOString() });
            const how = await pushArtifact(src.attachments(), built, { subject: image.digest });
            process.stderr.write(`attached ${flags.format} SBOM to ${src.description}@${image.digest} as ${built.manifest.digest} (${how === 'api' ? 'referrers API' : 'referrers tag'})\n`);
          }
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}
