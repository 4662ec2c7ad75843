import type { Descriptor, Platform } from '../oci/descriptor.js';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

/** A `--platform` value that is not os/arch[/variant]: bad input, like an invalid reference. */
export class PlatformError extends Error {
  override readonly name = 'PlatformError';
}

/** `linux/arm64/v8` -> { os, architecture, variant }. */
export function parsePlatform(value: string): PlatformSpec {
  const [os, architecture, variant, extra] = value.split('/');
  if (!os || !architecture || extra !== undefined) throw new PlatformError(`invalid platform "${value}": expected os/arch[/variant], e.g. linux/arm64`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): PlatformSpec {
  return { os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch };
}

export const formatPlatform = (p: Platform | PlatformSpec): string =>
  [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** An image (not an index) whose config names another platform than the one asked for. */
export function checkPlatform(config: { os?: string; architecture?: string; variant?: string }, want: PlatformSpec, name: string): void {
  const have = { os: config.os ?? 'unknown', architecture: config.architecture ?? 'unknown', ...(config.variant ? { variant: config.variant } : {}) };
  if (have.os === want.os && have.architecture === want.architecture && (!want.variant || have.variant === want.variant)) return;
  // docker's words, so scripts and people recognise it.
  throw new Error(`image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
}

/** Picks the index entry for a platform; a spec without variant takes the first matching arch. */
export function choosePlatform(manifests: Descriptor[], want: PlatformSpec): Descriptor {
  const matches = manifests.filter(
    (m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && (!want.variant || m.platform.variant === want.variant),
  );
  const found = matches[0];
  if (!found) {
    const have = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
    throw new Error(`no image for platform ${formatPlatform(want)} in the index (it has: ${have || 'nothing'}); use --platform or --all-platforms`);
  }
  return found;
}
