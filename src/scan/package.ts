import { PackageURL } from 'packageurl-js';
import { distroQualifier, type OsInfo } from './os.js';

/** purl types of the formats Berth catalogues. */
export type PurlType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'golang' | 'maven';

/**
 * Where packages were found, one kind per analyser (Trivy's target types):
 * OS databases, the node_modules tree, a lock file, Python site-packages,
 * one Go binary, one jar.
 */
export type TargetKind = 'dpkg' | 'apk' | 'rpm' | 'node-pkg' | 'npm-lock' | 'python-pkg' | 'gobinary' | 'jar';

export const OS_TARGETS: ReadonlySet<TargetKind> = new Set(['dpkg', 'apk', 'rpm']);

/** A package as an analyser read it from one file. */
export interface FoundPackage {
  type: PurlType;
  /** npm scope (`@types`), Maven group, purl namespace; OS packages get the distro's. */
  namespace?: string;
  name: string;
  version: string;
  /** OS packages: the source package advisories are filed against (dpkg `Source:`, apk origin). */
  source?: { name: string; version: string };
  arch?: string;
  /** As declared (SPDX expressions where the format uses them). */
  licenses: string[];
}

/** A package of the final filesystem: where it was declared and which layer put it there. */
export interface Package extends FoundPackage {
  purl: string;
  /** The file that declares it, e.g. `var/lib/dpkg/status`, `usr/bin/app`. */
  path: string;
  /** 1-based index of the layer that added this package at this version. */
  layer: number;
}

/** The package's purl; OS packages carry the distro qualifier (`pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12`). */
export function purlOf(pkg: FoundPackage, os: OsInfo | undefined): string {
  const qualifiers: Record<string, string> = {};
  if (pkg.arch) qualifiers.arch = pkg.arch;
  const isOs = pkg.type === 'deb' || pkg.type === 'apk' || pkg.type === 'rpm';
  if (isOs && os) qualifiers.distro = distroQualifier(os);
  if (isOs && pkg.source && pkg.source.name !== pkg.name) qualifiers.upstream = pkg.source.name;
  const namespace = pkg.namespace ?? (isOs ? os?.family : undefined);
  return new PackageURL(pkg.type, namespace, pkg.name, pkg.version, Object.keys(qualifiers).length ? qualifiers : undefined, undefined).toString();
}

/** `@types/node`, `golang.org/x/net`, `org.apache:commons`: the name people and OSV use. */
export function fullName(pkg: Pick<FoundPackage, 'type' | 'namespace' | 'name'>): string {
  if (!pkg.namespace || pkg.type === 'deb' || pkg.type === 'apk' || pkg.type === 'rpm') return pkg.name;
  return pkg.type === 'maven' ? `${pkg.namespace}:${pkg.name}` : `${pkg.namespace}/${pkg.name}`;
}
