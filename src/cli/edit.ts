import type { Command } from 'commander';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import { copyImage } from '../transport/copy.js';
import { configBlob, editManifest, EditedSource, type AddedBlob, type ManifestJson } from '../transport/edited.js';
import { openSink, openSource, parseLocation } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { imageFor, readBlob } from '../transport/select.js';
import { out, printJson, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';

export interface EditFlags extends ClientFlags {
  tag?: string;
  platform?: string;
}

/** An image config as JSON: only the fields edits touch are typed. */
export interface ConfigJson {
  config?: Record<string, unknown>;
  rootfs?: { type: string; diff_ids: string[] };
  history?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** What an edit changes: the config in place, the manifest (annotations, layers), and the blobs it adds besides the config. */
export type Edit = (config: ConfigJson, manifest: ManifestJson) => AddedBlob[];

export const editOptions = (cmd: Command): Command =>
  cmd
    .option('-t, --tag <ref>', 'where the edited image goes (default: the source reference, whose tag then moves)')
    .option('--platform <os/arch[/variant]>', 'of an index, the image to edit (the result is that one image)');

/**
 * Reads one image, applies `edit` to its config and manifest, and copies the
 * result to `-t` (or back over the source tag): only the new config and layers
 * travel, the rest is mounted or already there. Prints the new digest.
 */
export async function editImage(input: string, flags: EditFlags, edit: Edit): Promise<void> {
  const ctx = context(flags);
  const src = await openSource(ctx, parseLocation(input, 'remote'));
  try {
    const root = await src.root();
    if (isIndexType(root.mediaType) && !flags.platform) throw new UsageError(`${input} is an index of several images: name one with --platform os/arch`);
    const image = flags.platform ? await imageFor(src, root, parsePlatform(flags.platform)) : root;
    const facts = parseManifest(image.bytes, image.mediaType);
    if (!facts.config) throw new UsageError(`${input}: ${image.digest} has no config to edit`);
    const config = JSON.parse((await readBlob(src, image, facts.config)).toString('utf8')) as ConfigJson;
    let added: AddedBlob[] = [];
    const edited = editManifest(image, (json) => {
      added = edit(config, json);
      const blob = configBlob(config, json.config.mediaType);
      json.config = { ...json.config, ...blob.desc };
      added.push(blob);
    });
    const dst = await openSink(ctx, parseLocation(flags.tag ?? input, 'remote'));
    const result = await copyImage(new EditedSource(src, edited, added), dst, {});
    if (flags.json) return void printJson({ reference: flags.tag ?? input, digest: result.root.digest, was: image.digest });
    out(`${flags.tag ?? input}: digest: ${result.root.digest} (was ${image.digest})`);
  } finally {
    await src.close();
    await ctx.http.close();
  }
}
