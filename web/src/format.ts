const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB": binary units, as `berth usage` prints them. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

/** The first 12 hex digits, as docker shows image ids. */
export const shortDigest = (d: string): string => d.replace(/^([a-z0-9]+):([a-f0-9]{12})[a-f0-9]*$/, '$1:$2');

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const STEPS: [number, Intl.RelativeTimeFormatUnit][] = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [30, 'day'],
  [12, 'month'],
  [Infinity, 'year'],
];

/** "3 minutes ago", with the exact time for a title attribute. */
export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  let v = (Date.parse(iso) - Date.now()) / 1000;
  for (const [size, unit] of STEPS) {
    if (Math.abs(v) < size) return RELATIVE.format(Math.round(v), unit);
    v /= size;
  }
  return iso;
}

export const exact = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString('en-GB', { timeZoneName: 'short' }) : '');

export const platform = (p: { os: string; architecture: string; variant?: string }): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

export const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** What kind of thing a manifest is, in words. */
export function kindOf(mediaType: string, artifactType?: string | null): string {
  if (/index|manifest\.list/.test(mediaType)) return 'multi-platform index';
  if (artifactType && !/image\.config|container\.image/.test(artifactType)) return `artifact (${artifactType})`;
  return /docker/.test(mediaType) ? 'image (Docker v2)' : 'image (OCI)';
}
