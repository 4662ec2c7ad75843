import { z } from 'zod';

/** A duration in milliseconds, written as a number or as 90s, 15m, 24h, 7d. */
export const duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 90s, 15m, 24h')])
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

/** A size in bytes, written as a number or as 512KiB, 4MiB, 10GiB. */
export const size = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(B|KiB|MiB|GiB|TiB)?$/, 'a size such as 4MiB')])
  .transform((v) => (typeof v === 'number' ? v : parseSize(v)));

function parseDuration(v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

function parseSize(v: string): number {
  const m = /^(\d+)(B|KiB|MiB|GiB|TiB)?$/.exec(v)!;
  const unit = { B: 1, KiB: 1024, MiB: 1 << 20, GiB: 1 << 30, TiB: 2 ** 40 }[(m[2] ?? 'B') as 'B'];
  return Number(m[1]) * unit;
}
