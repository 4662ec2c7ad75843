import { VersionError } from './errors.js';

interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** `[epoch:]upstream[-revision]` (Debian Policy 5.6.12). */
export function parseDebVersion(v: string): DebVersion {
  const s = v.trim();
  const colon = s.indexOf(':');
  const epochText = colon >= 0 ? s.slice(0, colon) : '0';
  if (!/^\d+$/.test(epochText)) throw new VersionError(`dpkg version "${v}": the epoch must be a number`);
  const rest = colon >= 0 ? s.slice(colon + 1) : s;
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (!/^[A-Za-z0-9][A-Za-z0-9.+~:-]*$/.test(upstream) || !/^[A-Za-z0-9.+~]*$/.test(revision)) {
    throw new VersionError(`dpkg version "${v}" has characters Debian Policy does not allow`);
  }
  return { epoch: Number(epochText), upstream, revision };
}

/** dpkg's ordering: epoch numerically, then upstream and revision by verrevcmp, where `~` sorts before everything, even the end. */
export function compareDeb(a: string, b: string): number {
  const x = parseDebVersion(a);
  const y = parseDebVersion(b);
  return Math.sign(x.epoch - y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}

/** The weight of one character in a non-digit run (dpkg's `order()`). */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const d = order(a[i]) - order(b[j]);
      if (d) return Math.sign(d);
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (i < a.length && isDigit(a[i]!) && j < b.length && isDigit(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i]!)) return 1;
    if (j < b.length && isDigit(b[j]!)) return -1;
    if (firstDiff) return Math.sign(firstDiff);
  }
  return 0;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
