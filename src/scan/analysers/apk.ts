import { found, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';
import type { FoundPackage } from '../package.js';

/**
 * Alpine's installed database: blank-line separated records of `X:value`
 * lines (P name, V version, A arch, L license, o origin, the source
 * package Alpine's advisories name).
 */
export const apk: WholeFileAnalyser = {
  name: 'apk',
  kind: 'whole',
  maxBytes: 64 << 20,
  required: (path) => path === 'lib/apk/db/installed',
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const packages: FoundPackage[] = [];
    const warnings: string[] = [];
    let record = new Map<string, string>();
    let start = 1;
    const close = () => {
      const name = record.get('P');
      const version = record.get('V');
      if (name && version) {
        const license = record.get('L');
        packages.push({
          type: 'apk',
          name,
          version,
          source: { name: record.get('o') ?? name, version },
          ...(record.get('A') ? { arch: record.get('A')! } : {}),
          licenses: license ? [license] : [],
        });
      } else if (record.size > 0) {
        warnings.push(`the record at line ${start} has no ${name ? 'V:' : 'P:'} line; skipped`);
      }
      record = new Map();
    };
    const lines = content.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') {
        close();
        start = i + 2;
      } else if (line[1] === ':') {
        // Files (F:, R:, Z:) repeat; only the package fields matter here.
        if (!record.has(line[0]!)) record.set(line[0]!, line.slice(2));
      } else {
        warnings.push(`line ${i + 1} is not an X:value line; ignored`);
      }
    }
    close();
    return found({ type: 'packages', target: 'apk', packages }, warnings);
  },
};
