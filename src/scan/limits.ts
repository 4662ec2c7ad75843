export interface WalkLimits {
  /** Tar entries read over all layers; past it the scan stops with a warning (a tar bomb of tiny files). */
  maxEntries: number;
  /** Uncompressed file bytes over all layers (a decompression bomb). */
  maxBytes: number;
}

export const DEFAULT_LIMITS: WalkLimits = { maxEntries: 500_000, maxBytes: 32 * 2 ** 30 };
