import type { Command } from 'commander';
import type { Descriptor, Platform } from '../oci/descriptor.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType, MediaType } from '../oci/mediatypes.js';
import { digestOf } from '../client/registry.js';
import { formatReference, parseReference, type Reference } from '../oci/reference.js';
import { IndexDrafts, type IndexDraft } from '../local/index-drafts.js';
import { copyImage } from '../transport/copy.js';
import { clientFor, openSink, openSource, type TransportContext } from '../transport/location.js';
import { formatPlatform } from '../transport/platform.js';
import { readBlob } from '../transport/select.js';
import { clientOptions, NotFoundError, out, printJson, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { collect, keyValues } from './options.js';

interface AnnotateFlags {
  os?: string;
  arch?: string;
  variant?: string;
  osFeatures?: string;
  annotation?: string[];
}

/**
 * `berth manifest create/annotate/push`: docker's way of building a
 * multi-platform index from images already on a registry.
 */
export function registerIndexCommands(manifest: Command): void {
  clientOptions(manifest.command('create').argument('<list>', 'the index to build, HOST/REPO:TAG').argument('<images...>', 'images on registries, one per platform'))
    .description('start an index from images on registries; each entry takes its platform from the image config')
    .option('--amend', 'add to the draft of that name instead of refusing')
    .action(
      run('manifest create', async (listArg: string, images: string[], flags: ClientFlags & { amend?: boolean }) => {
        const list = formatReference(parseReference(listArg));
        const ctx = context(flags);
        const drafts = new IndexDrafts(ctx.store.home);
        try {
          const draft = (await drafts.get(list)) ?? { list, manifests: [] };
          if (draft.manifests.length && !flags.amend) throw new UsageError(`a draft of ${list} exists already: --amend adds to it, berth manifest push ${list} --purge ends it`);
          for (const image of images) {
            const ref = parseReference(image);
            const entry = { ref: formatReference(ref), descriptor: await entryFor(ctx, ref) };
            draft.manifests = [...draft.manifests.filter((m) => m.descriptor.digest !== entry.descriptor.digest), entry];
          }
          await drafts.save(draft);
          out(`Created manifest list ${list}`);
        } finally {
          await ctx.http.close();
        }
      }),
    );
  manifest
    .command('annotate')
    .argument('<list>', 'the draft index')
    .argument('<image>', 'one of its images, by the reference given to create or by digest')
    .description("set an entry's platform or annotations in a draft index")
    .option('--os <os>', 'operating system')
    .option('--arch <arch>', 'architecture')
    .option('--variant <variant>', 'architecture variant, e.g. v8')
    .option('--os-features <list>', 'comma-separated OS features')
    .option('-a, --annotation <key=value>', 'set an annotation on the entry (repeatable)', collect)
    .action(
      run('manifest annotate', async (listArg: string, imageArg: string, flags: AnnotateFlags) => {
        const drafts = new IndexDrafts(context({}).store.home);
        const draft = await draftOf(drafts, listArg);
        const entry = draft.manifests.find((m) => m.descriptor.digest === imageArg || m.ref === formatReference(parseReference(imageArg)));
        if (!entry) throw new NotFoundError(`${imageArg} is not in the draft of ${draft.list}; it has ${draft.manifests.map((m) => m.ref).join(', ')}`);
        const d = entry.descriptor;
        const platform: Platform = { ...(d.platform ?? { os: 'unknown', architecture: 'unknown' }) };
        if (flags.os) platform.os = flags.os;
        if (flags.arch) platform.architecture = flags.arch;
        if (flags.variant) platform.variant = flags.variant;
        if (flags.osFeatures) platform['os.features'] = flags.osFeatures.split(',').filter(Boolean);
        d.platform = platform;
        const annotations = keyValues(flags.annotation, '--annotation');
        if (Object.keys(annotations).length) d.annotations = { ...d.annotations, ...annotations };
        await drafts.save(draft);
      }),
    );
  clientOptions(manifest.command('push').argument('<list>', 'the draft index'))
    .description("push a draft index: images from other repositories are mounted or copied into the index's repository first")
    .option('--purge', 'remove the draft once pushed')
    .action(
      run('manifest push', async (listArg: string, flags: ClientFlags & { purge?: boolean }) => {
        const ctx = context(flags);
        const drafts = new IndexDrafts(ctx.store.home);
        try {
          const draft = await draftOf(drafts, listArg);
          const list = parseReference(draft.list);
          for (const m of draft.manifests) await bringInto(ctx, parseReference(m.ref), m.descriptor, list);
          const index = indexOf(draft);
          await clientFor(ctx, list.registry).putManifest(list.repository, list.tag ?? index.digest, index);
          if (flags.purge) await drafts.remove(draft.list);
          if (flags.json) return void printJson({ reference: draft.list, digest: index.digest, manifests: draft.manifests.map((m) => m.descriptor) });
          out(index.digest);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

async function draftOf(drafts: IndexDrafts, listArg: string): Promise<IndexDraft> {
  const list = formatReference(parseReference(listArg));
  const draft = await drafts.get(list);
  if (!draft) throw new NotFoundError(`no draft of ${list}: start one with berth manifest create ${list} IMAGE...`);
  return draft;
}

/** The index entry for an image: its descriptor and the platform its config names. */
async function entryFor(ctx: TransportContext, ref: Reference): Promise<Descriptor> {
  const src = await openSource(ctx, { kind: 'remote', ref });
  try {
    const m = await src.root();
    if (isIndexType(m.mediaType)) throw new UsageError(`${formatReference(ref)} is an index itself; name one of its images (berth manifest --platform P shows each)`);
    const config = parseManifest(m.bytes, m.mediaType).config;
    const json = config ? (JSON.parse((await readBlob(src, m, config)).toString('utf8')) as { os?: string; architecture?: string; variant?: string }) : {};
    const platform: Platform = { os: json.os ?? 'unknown', architecture: json.architecture ?? 'unknown', ...(json.variant ? { variant: json.variant } : {}) };
    process.stderr.write(`${formatReference(ref)}: ${m.digest} (${formatPlatform(platform)})\n`);
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, platform };
  } finally {
    await src.close();
  }
}

/** An index may only name manifests its own repository holds: an image from elsewhere is copied in by digest (its blobs mounted when on the same registry). */
async function bringInto(ctx: TransportContext, from: Reference, desc: Descriptor, list: Reference): Promise<void> {
  if (from.registry === list.registry && from.repository === list.repository) return;
  const src = await openSource(ctx, { kind: 'remote', ref: { registry: from.registry, repository: from.repository, digest: desc.digest } });
  try {
    await copyImage(src, await openSink(ctx, { kind: 'remote', ref: { registry: list.registry, repository: list.repository, digest: desc.digest } }));
  } finally {
    await src.close();
  }
}

/** Docker schema2 images make a Docker manifest list (as docker manifest does); anything else an OCI index. */
function indexOf(draft: IndexDraft): { bytes: Buffer; mediaType: string; digest: ReturnType<typeof digestOf> } {
  const docker = draft.manifests.length > 0 && draft.manifests.every((m) => m.descriptor.mediaType === MediaType.dockerManifest);
  const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: draft.manifests.map((m) => m.descriptor) }, null, 2));
  return { bytes, mediaType, digest: digestOf(bytes) };
}
