import pep440 from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk } from './apk.js';
import { compareDeb } from './dpkg.js';
import { VersionError } from './errors.js';

export type Compare = (a: string, b: string) => number;

/** npm's semver; Go's too, once the `v` is dropped (OSV writes Go versions without it; pseudo-versions are prereleases). */
export function compareSemver(a: string, b: string): number {
  const x = semver.parse(a.replace(/^v/, ''));
  const y = semver.parse(b.replace(/^v/, ''));
  if (!x || !y) throw new VersionError(`"${x ? b : a}" is not a semantic version`);
  return x.compare(y);
}

/** PEP 440 through @renovatebot/pep440 (pip's own rules). */
export function comparePep440(a: string, b: string): number {
  if (!pep440.valid(a) || !pep440.valid(b)) throw new VersionError(`"${pep440.valid(a) ? b : a}" is not a PEP 440 version`);
  return Math.sign(pep440.compare(a, b));
}

/** The version order of an OSV ecosystem (`Debian:12` is Debian's), or undefined for ecosystems Berth does not match. */
export function compareFor(ecosystem: string): Compare | undefined {
  switch (ecosystem.split(':', 1)[0]) {
    case 'Debian':
    case 'Ubuntu':
      return compareDeb;
    case 'Alpine':
      return compareApk;
    case 'npm':
    case 'Go':
      return compareSemver;
    case 'PyPI':
      return comparePep440;
    default:
      return undefined;
  }
}
