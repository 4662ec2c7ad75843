import { found, nothing, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';

export const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'] as const;

/** /etc/os-release, or /usr/lib/os-release, which it usually links to (os-release(5)). */
export const osRelease: WholeFileAnalyser = {
  name: 'os-release',
  kind: 'whole',
  maxBytes: 64 << 10,
  required: (path) => (OS_RELEASE_PATHS as readonly string[]).includes(path),
  analyse(_file: FileVersion, content: Buffer): Analysis {
    const vars = parseOsRelease(content.toString('utf8'));
    const family = vars.get('ID');
    if (!family) return { ...nothing(), warnings: ['no ID= line; the OS is unknown'] };
    return found({ type: 'os', os: { family, version: vars.get('VERSION_ID') ?? '', name: vars.get('PRETTY_NAME') ?? family } });
  },
};

/** Shell-style `KEY=value` lines, values optionally quoted. */
export function parseOsRelease(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    vars.set(m[1]!, v);
  }
  return vars;
}
