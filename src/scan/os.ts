/** The distribution an image is built on, from /etc/os-release (or /usr/lib/os-release). */
export interface OsInfo {
  /** os-release ID: `debian`, `ubuntu`, `alpine`, `rhel`, ... */
  family: string;
  /** os-release VERSION_ID: `12`, `22.04`, `3.19.1`; empty for rolling releases. */
  version: string;
  /** PRETTY_NAME, for people. */
  name: string;
}

/**
 * The OSV ecosystems whose advisories apply to this OS's packages: Debian
 * by major release (`Debian:12`), Alpine by branch (`Alpine:v3.19`), Ubuntu
 * with or without the LTS suffix OSV uses for LTS releases.
 */
export function osvEcosystems(os: OsInfo): string[] {
  switch (os.family) {
    case 'debian':
      return os.version ? [`Debian:${os.version.split('.')[0]}`] : [];
    case 'ubuntu':
      return os.version ? [`Ubuntu:${os.version}`, `Ubuntu:${os.version}:LTS`, `Ubuntu:Pro:${os.version}:LTS`] : [];
    case 'alpine': {
      const [major, minor] = os.version.split('.');
      return major && minor ? [`Alpine:v${major}.${minor}`] : [];
    }
    default:
      return [];
  }
}

/** `debian-12`, as the purl `distro` qualifier writes it. */
export const distroQualifier = (os: OsInfo): string => (os.version ? `${os.family}-${os.version}` : os.family);
