import { found, nothing, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';
import { parseStanzas } from './control-fields.js';

/** Installed distributions: wheels leave `*.dist-info/METADATA`, setuptools `*.egg-info/PKG-INFO` (or an `*.egg-info` file). */
const METADATA = /(?:\.dist-info\/METADATA|\.egg-info\/PKG-INFO|\.egg-info)$/;

export const python: WholeFileAnalyser = {
  name: 'python',
  kind: 'whole',
  maxBytes: 8 << 20,
  required: (path) => METADATA.test(path),
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const { stanzas } = parseStanzas(content.toString('utf8'), { headerOnly: true });
    const fields = stanzas[0]?.fields;
    const name = fields?.get('Name');
    const version = fields?.get('Version');
    if (!fields || !name || !version) return { ...nothing(), warnings: ['no Name and Version headers; skipped'] };
    return found({ type: 'packages', target: 'python-pkg', packages: [{ type: 'pypi', name, version, licenses: licensesOf(fields) }] });
  },
};

/** PEP 639's License-Expression, else License (when it is a name, not a whole licence text), else the classifiers. */
function licensesOf(fields: Map<string, string>): string[] {
  const expression = fields.get('License-Expression');
  if (expression) return [expression];
  const license = fields.get('License');
  if (license && license !== 'UNKNOWN' && !license.includes('\n') && license.length <= 100) return [license];
  return (fields.get('Classifier') ?? '')
    .split('\n')
    .filter((c) => c.startsWith('License :: '))
    .map((c) => c.split(' :: ').at(-1)!)
    .filter((l) => l !== 'OSI Approved');
}
