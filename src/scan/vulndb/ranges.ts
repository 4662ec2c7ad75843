import { compareSemver, type Compare } from '../versions/index.js';
import { VersionError } from '../versions/errors.js';
import type { AffectedPackage, OsvEvent, OsvRange } from './osv.js';

export interface RangeVerdict {
  affected: boolean;
  /** The first fixed version above the installed one, when the advisory names one. */
  fixed?: string;
}

/**
 * OSV's evaluation (osv-schema, "Evaluation"): a version is affected when
 * it is listed in `versions`, or when sweeping a range's events in version
 * order leaves it introduced and neither fixed (>= fixed) nor past
 * `last_affected`; `limit` events bound the sweep from above. SEMVER
 * ranges use semver whatever the ecosystem. A range whose versions do
 * not parse in the ecosystem's grammar is skipped (counted in `unparsable`).
 */
export function evaluate(version: string, pkg: AffectedPackage, compare: Compare, unparsable: { count: number }): RangeVerdict {
  let listed = pkg.versions.includes(version);
  let fixed: string | undefined;
  for (const range of pkg.ranges) {
    const cmp = range.type === 'SEMVER' ? compareSemver : compare;
    try {
      if (inRange(version, range, cmp)) {
        listed = true;
        fixed ??= firstFixedAbove(version, range, cmp);
      }
    } catch (e) {
      if (!(e instanceof VersionError)) throw e;
      unparsable.count++;
    }
  }
  return listed ? { affected: true, ...(fixed ? { fixed } : {}) } : { affected: false };
}

function inRange(v: string, range: OsvRange, cmp: Compare): boolean {
  const limits = range.events.flatMap((e) => ('limit' in e ? [e.limit] : []));
  if (limits.length > 0 && !limits.some((l) => l === '*' || cmp(v, l) < 0)) return false;
  let affected = false;
  for (const e of sortEvents(range.events, cmp)) {
    if ('introduced' in e) {
      if (e.introduced === '0' || cmp(v, e.introduced) >= 0) affected = true;
    } else if ('fixed' in e) {
      if (cmp(v, e.fixed) >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (cmp(v, e.last_affected) > 0) affected = false;
    }
  }
  return affected;
}

const eventVersion = (e: OsvEvent): string => ('introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : e.limit);

/** `introduced: "0"` means "from the first version" and sorts before everything; it parses in no grammar. */
function sortEvents(events: OsvEvent[], cmp: Compare): OsvEvent[] {
  return events
    .filter((e) => !('limit' in e))
    .sort((a, b) => {
      const x = eventVersion(a);
      const y = eventVersion(b);
      if (x === '0' && 'introduced' in a) return y === '0' && 'introduced' in b ? 0 : -1;
      if (y === '0' && 'introduced' in b) return 1;
      return cmp(x, y);
    });
}

function firstFixedAbove(v: string, range: OsvRange, cmp: Compare): string | undefined {
  const fixes = range.events.flatMap((e) => ('fixed' in e ? [e.fixed] : [])).filter((f) => cmp(f, v) > 0);
  return fixes.sort(cmp)[0];
}
