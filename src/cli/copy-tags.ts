import { parseReference, type Reference } from '../oci/reference.js';
import type { Tag } from '../oci/name.js';
import { clientFor, openSink, openSource, type TransportContext } from '../transport/location.js';
import type { PlatformSpec } from '../transport/platform.js';
import { out, printJson, UsageError } from './common.js';
import { copyWithAttachments, type OutputFlags } from './copy.js';

/** A repository on a registry, as `copy --all-tags` and `sync` take it: no tag, no digest. */
export function repositoryArg(input: string, what: string): Reference {
  if (/^(local|oci|oci-archive|docker-archive):/.test(input)) throw new UsageError(`${what} ${input}: only repositories on registries have tags to copy`);
  const ref = parseReference(input.replace(/^docker:\/\//, ''), { defaultTag: false });
  if (ref.tag !== undefined || ref.digest !== undefined) throw new UsageError(`${what} ${input}: name the repository alone, without a tag or digest`);
  return ref;
}

/** Every tag of one repository into another, page by page, each image or index whole. */
export async function copyAllTags(ctx: TransportContext, srcArg: string, dstArg: string, flags: OutputFlags, platform: PlatformSpec | undefined): Promise<void> {
  const from = repositoryArg(srcArg, 'source');
  const to = repositoryArg(dstArg, 'destination');
  const copied: { tag: string; digest: string }[] = [];
  for await (const page of clientFor(ctx, from.registry).tagPages(from.repository)) {
    for (const tag of page as Tag[]) {
      if (!flags.json) out(`Copying ${from.registry}/${from.repository}:${tag} to ${to.registry}/${to.repository}:${tag}`);
      const src = await openSource(ctx, { kind: 'remote', ref: { ...from, tag } });
      try {
        const { result } = await copyWithAttachments(src, await openSink(ctx, { kind: 'remote', ref: { ...to, tag } }), flags, platform);
        copied.push({ tag, digest: result.root.digest });
        if (!flags.json) out(`${tag}: digest: ${result.root.digest}`);
      } finally {
        await src.close();
      }
    }
  }
  if (flags.json) printJson({ source: srcArg, destination: dstArg, tags: copied });
  else out(`Copied ${copied.length} tag${copied.length === 1 ? '' : 's'}`);
}
