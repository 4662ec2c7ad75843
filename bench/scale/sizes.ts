import type { SeedShape } from '../../src/meta/seed.js';

/** One step of the ladder: each figure ten times the last, as the issue asks (tags: 100, 1k, 10k). */
export interface ScaleSize extends SeedShape {
  name: string;
  /**
   * Whether Distribution is measured at this size too. Its storage is seeded
   * file by file, each file in a directory of its own: 24,000 files for small
   * (8 s), 240,000 for medium, and for large 2.4 million files and as many
   * directories, a 4 KiB block each (near 20 GB), beyond this machine's disk.
   */
  distribution: boolean;
}

export const SIZES: ScaleSize[] = [
  { name: 'small', repositories: 1_000, tags: 100, blobs: 10_000, distribution: true },
  { name: 'medium', repositories: 10_000, tags: 1_000, blobs: 100_000, distribution: true },
  { name: 'large', repositories: 100_000, tags: 10_000, blobs: 1_000_000, distribution: false },
];

/** `--scale-sizes small,medium`: the named steps, in ladder order. */
export function chooseSizes(names: string | undefined): ScaleSize[] {
  if (names === undefined) return SIZES;
  const wanted = names.split(',').filter(Boolean);
  const unknown = wanted.filter((n) => !SIZES.some((s) => s.name === n));
  if (unknown.length || wanted.length === 0) throw new Error(`--scale-sizes wants some of ${SIZES.map((s) => s.name).join(', ')}; got "${names}"`);
  return SIZES.filter((s) => wanted.includes(s.name));
}
