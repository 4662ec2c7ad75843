import picomatch from 'picomatch';
import { imageFacts } from '../local/image-facts.js';
import { resolveLocal } from '../local/resolve.js';
import type { LocalStore, StoredImage } from '../local/store.js';
import { computeUsage } from '../local/usage.js';
import type { Digest } from '../oci/digest.js';
import { familiarName, familiarReference, parseReference } from '../oci/reference.js';
import { UsageError } from './exit.js';

export interface ImageRow {
  image: StoredImage;
  id: Digest;
  created?: string;
  size: number;
}

/** Every image of the store (untagged ones too) with its ID, creation time and size, newest first. */
export async function listImages(store: LocalStore): Promise<ImageRow[]> {
  const usage = await computeUsage(store, await store.everything());
  const rows = await Promise.all(
    usage.images.map(async ({ image, size }): Promise<ImageRow> => {
      const facts = await imageFacts(store, image).catch(() => undefined);
      return { image, id: facts?.id ?? image.descriptor.digest, ...(facts?.created ? { created: facts.created } : {}), size };
    }),
  );
  return rows.sort((a, b) => time(b) - time(a) || a.image.name.localeCompare(b.image.name));
}

const time = (r: ImageRow): number => (r.created ? Date.parse(r.created) || 0 : 0);

type Filter = (row: ImageRow) => boolean;

const FILTERS = ['dangling', 'reference', 'before', 'since'];

/** docker's `--filter KEY=VALUE` for images; filters of different keys all apply, values of one key are alternatives. */
export async function imageFilter(store: LocalStore, specs: string[]): Promise<Filter> {
  const byKey = new Map<string, Filter[]>();
  for (const spec of specs) {
    const i = spec.indexOf('=');
    const key = spec.slice(0, i);
    if (i <= 0 || !FILTERS.includes(key)) throw new UsageError(`--filter ${spec}: expected KEY=VALUE with KEY one of ${FILTERS.join(', ')}`);
    byKey.set(key, [...(byKey.get(key) ?? []), await filterOf(store, key, spec.slice(i + 1))]);
  }
  return (row) => [...byKey.values()].every((alternatives) => alternatives.some((f) => f(row)));
}

async function filterOf(store: LocalStore, key: string, value: string): Promise<Filter> {
  switch (key) {
    case 'dangling':
      if (value !== 'true' && value !== 'false') throw new UsageError(`--filter dangling=${value}: expected true or false`);
      return (row) => (row.image.untagged === true) === (value === 'true');
    case 'reference':
      return referenceFilter(value);
    default: {
      const anchor = await resolveLocal(store, value);
      const at = time((await listImages(store)).find((r) => r.id === anchor.id)!);
      return key === 'before' ? (row) => row.created !== undefined && time(row) < at : (row) => row.created !== undefined && time(row) > at;
    }
  }
}

/**
 * As docker matches `reference=` (and the REPO[:TAG] argument): a glob
 * against the familiar `name:tag` or the name alone, `*` stopping at `/`. A
 * pattern without glob characters may be written in full
 * (`docker.io/library/alpine`) too.
 */
export function referenceFilter(pattern: string): Filter {
  const glob = picomatch(pattern, { dot: true });
  const exact = /[*?[\]]/.test(pattern) ? undefined : tryReference(pattern);
  return ({ image }) => {
    if (image.untagged) return false;
    const { ref } = image;
    if (glob(familiarReference(ref)) || glob(familiarName(ref))) return true;
    if (!exact || exact.registry !== ref.registry || exact.repository !== ref.repository) return false;
    return exact.tag === undefined || exact.tag === ref.tag;
  };
}

function tryReference(pattern: string): ReturnType<typeof parseReference> | undefined {
  try {
    return parseReference(pattern, { defaultTag: false });
  } catch {
    return undefined;
  }
}
