import { VersionError } from './errors.js';

/**
 * Suffixes in apk-tools' order: pre-releases before the bare version,
 * post-release snapshots and patches after it.
 */
const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'] as const;
const RELEASE = SUFFIXES.indexOf('');

interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: { rank: number; n: bigint }[];
  revision: bigint;
}

/** `1.2.3a_rc1_p2-r4`: dot-separated numbers, an optional letter, `_suffix[N]`s, `-rN`. */
export function parseApkVersion(v: string): ApkVersion {
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:-r(\d+))?$/.exec(v.trim());
  if (!m) throw new VersionError(`apk version "${v}" does not follow apk's grammar`);
  const suffixes = [...m[3]!.matchAll(/_([a-z]+)(\d*)/g)].map((s) => {
    const rank = SUFFIXES.indexOf(s[1] as (typeof SUFFIXES)[number]);
    if (rank < 0 || rank === RELEASE) throw new VersionError(`apk version "${v}": unknown suffix _${s[1]}`);
    return { rank, n: BigInt(s[2] || '0') };
  });
  return { numbers: m[1]!.split('.'), letter: m[2]!, suffixes, revision: BigInt(m[4] ?? '0') };
}

/**
 * apk-tools' ordering (Gentoo's, which it follows): the first number
 * numerically; later ones numerically unless either has a leading zero,
 * then as decimal fractions; more numbers sort higher; then the letter,
 * the suffixes, and the revision.
 */
export function compareApk(a: string, b: string): number {
  const x = parseApkVersion(a);
  const y = parseApkVersion(b);
  return compareNumbers(x.numbers, y.numbers) || cmp(x.letter, y.letter) || compareSuffixes(x.suffixes, y.suffixes) || cmpBig(x.revision, y.revision);
}

function compareNumbers(x: string[], y: string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const a = x[i]!;
    const b = y[i]!;
    const d = i > 0 && (a.startsWith('0') || b.startsWith('0')) ? cmp(a.replace(/0+$/, ''), b.replace(/0+$/, '')) : cmpBig(BigInt(a), BigInt(b));
    if (d) return d;
  }
  return Math.sign(x.length - y.length);
}

function compareSuffixes(x: ApkVersion['suffixes'], y: ApkVersion['suffixes']): number {
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const a = x[i];
    const b = y[i];
    // A missing suffix is the bare release: pre-releases sort below it, patches above.
    const d = Math.sign((a?.rank ?? RELEASE) - (b?.rank ?? RELEASE)) || (a && b ? cmpBig(a.n, b.n) : 0);
    if (d) return d;
  }
  return 0;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
