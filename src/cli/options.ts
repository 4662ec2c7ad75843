// Parsers of repeatable options, apart from target.ts so verbs that never reach a registry do not load its client.
import { UsageError } from './exit.js';

/** `-a key=value` flags, repeated. */
export function keyValues(pairs: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`${flag} ${p}: expected key=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** Commander's collector for an option given more than once. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
