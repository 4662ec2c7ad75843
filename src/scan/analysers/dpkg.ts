import { found, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';
import type { FoundPackage } from '../package.js';
import { parseStanzas } from './control-fields.js';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;

/** Debian and Ubuntu packages: the dpkg status database, or distroless images' status.d/ (one file per package). */
export const dpkg: WholeFileAnalyser = {
  name: 'dpkg',
  kind: 'whole',
  maxBytes: 64 << 20,
  required: (path) => path === STATUS || (STATUS_D.test(path) && !path.endsWith('.md5sums')),
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const { stanzas, bad } = parseStanzas(content.toString('utf8'));
    const warnings = bad.map((line) => `line ${line} is not a control field; its package record was skipped`);
    const packages: FoundPackage[] = [];
    for (const { fields, line } of stanzas) {
      const name = fields.get('Package');
      const version = fields.get('Version');
      if (!name || !version) {
        warnings.push(`the record at line ${line} has no ${name ? 'Version' : 'Package'} field; skipped`);
        continue;
      }
      // status.d records carry no Status: they list installed packages only.
      const status = fields.get('Status');
      if (status !== undefined && !/ installed$/.test(status)) continue;
      packages.push({ type: 'deb', name, version, source: sourceOf(fields.get('Source'), name, version), ...arch(fields.get('Architecture')), licenses: [] });
    }
    return found({ type: 'packages', target: 'dpkg', packages }, warnings);
  },
};

/** `Source: glibc` or `Source: glibc (2.36-9)`: advisories are filed against the source package. */
function sourceOf(field: string | undefined, name: string, version: string): { name: string; version: string } {
  const m = field ? /^(\S+)(?:\s+\((\S+)\))?$/.exec(field) : null;
  return m ? { name: m[1]!, version: m[2] ?? version } : { name, version };
}

const arch = (a: string | undefined): { arch?: string } => (a ? { arch: a } : {});
