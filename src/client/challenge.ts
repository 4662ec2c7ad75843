/** One `WWW-Authenticate` challenge: `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const PARAM_RE = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

/** Returns the first Basic or Bearer challenge, or undefined when there is none we speak. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  let rest = header.trim();
  while (rest.length > 0) {
    const m = /^([A-Za-z]+)\s*/.exec(rest);
    if (!m) return undefined;
    const scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
    const params: Record<string, string> = {};
    PARAM_RE.lastIndex = 0;
    let p: RegExpExecArray | null;
    let consumed = 0;
    while ((p = PARAM_RE.exec(rest)) !== null && p[0].length > 0) {
      params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
      consumed = PARAM_RE.lastIndex;
    }
    if (scheme === 'basic' || scheme === 'bearer') return { scheme, params };
    rest = rest.slice(consumed).replace(/^\s*,\s*/, '');
  }
  return undefined;
}
