/**
 * Sizes as people read them. Client tables use docker's decimal units
 * (1 kB = 1000 B), as `docker images` does; operator output (`berth usage`,
 * `gc`, `fsck`, quota messages) uses the binary units the config file is
 * written in (1 KiB = 1024 B). Each unit says which it is.
 */
export function humanSize(bytes: number): string {
  return scaled(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB'], (n) => n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0), '');
}

/** Binary units, as `limits.maxManifestSize: 4MiB` and quotas are written. */
export function binarySize(bytes: number): string {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], (n) => n.toFixed(1), ' ');
}

function scaled(bytes: number, base: number, units: string[], digits: (n: number) => string, space: string): string {
  let n = bytes;
  let i = 0;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  return i === 0 ? `${bytes}${space}B` : `${digits(n)}${space}${units[i]}`;
}
