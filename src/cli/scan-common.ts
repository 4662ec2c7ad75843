import type { Command } from 'commander';
import type { Reference } from '../oci/reference.js';
import { size } from '../config/units.js';
import { imageInputOf, type ImageInput } from '../scan/image-input.js';
import { DEFAULT_LIMITS, type WalkLimits } from '../scan/limits.js';
import type { ImageSource } from '../transport/image.js';
import { LocalSource } from '../transport/local.js';
import type { TransportContext } from '../transport/location.js';
import { parsePlatform } from '../transport/platform.js';
import { RemoteSource } from '../transport/remote.js';
import type { ClientFlags } from './common.js';
import { sourceAnywhere } from './lookup.js';

export interface ImageFlags extends ClientFlags {
  platform?: string;
  maxFiles?: string;
  maxBytes?: string;
}

/** The flags of every command that reads an image's layers (sbom, scan). */
export function imageReadOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'which image of an index (default: this machine)')
    .option('--max-files <n>', `stop reading after this many tar entries (default ${DEFAULT_LIMITS.maxEntries})`)
    .option('--max-bytes <size>', 'stop reading after this many uncompressed bytes, e.g. 8GiB (default 32GiB)');
}

export function limitsOf(flags: ImageFlags): WalkLimits {
  const maxEntries = flags.maxFiles === undefined ? DEFAULT_LIMITS.maxEntries : Number(flags.maxFiles);
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) throw new Error(`--max-files must be a positive integer, not "${flags.maxFiles}"`);
  const maxBytes = flags.maxBytes === undefined ? DEFAULT_LIMITS.maxBytes : size.safeParse(flags.maxBytes);
  if (typeof maxBytes !== 'number' && !maxBytes.success) throw new Error(`--max-bytes must be a size such as 8GiB, not "${flags.maxBytes}"`);
  return { maxEntries, maxBytes: typeof maxBytes === 'number' ? maxBytes : maxBytes.data };
}

export interface OpenedImage {
  src: ImageSource;
  image: ImageInput;
  /** The registry reference, when the image is in (or was pulled from) a registry. */
  ref?: Reference;
}

/** REF (local store, else its registry), docker://REF, oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE. */
export async function openImage(ctx: TransportContext, input: string, flags: ImageFlags): Promise<OpenedImage> {
  const src = await sourceAnywhere(ctx, input);
  try {
    const image = await imageInputOf(src, flags.platform ? parsePlatform(flags.platform) : undefined);
    const ref = src instanceof RemoteSource ? src.ref : src instanceof LocalSource ? src.image.ref : undefined;
    return { src, image, ...(ref ? { ref } : {}) };
  } catch (e) {
    await src.close();
    throw e;
  }
}
