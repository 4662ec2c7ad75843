/** The ecosystems imported from a mirror when none are named: the ones Berth's analysers catalogue. */
export const DEFAULT_ECOSYSTEMS = ['Alpine', 'Debian', 'Go', 'npm', 'PyPI'];

/** osv.dev's export: `<base>/<Ecosystem>/all.zip` per ecosystem. */
export const OSV_EXPORT = 'https://osv-vulnerabilities.storage.googleapis.com';
