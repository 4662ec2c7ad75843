/** One stanza of RFC 822 style fields (dpkg status, Python METADATA): names as written, values with continuations joined. */
export type Stanza = Map<string, string>;

export interface ParsedStanzas {
  stanzas: { fields: Stanza; line: number }[];
  /** Lines that are neither a field nor a continuation, by line number. */
  bad: number[];
}

/**
 * Splits text into blank-line separated stanzas of `Name: value` fields.
 * Continuation lines start with a space or tab. A stanza holding a line
 * that is neither is reported in `bad` and left out, so one corrupt record
 * costs that record only. `headerOnly` stops at the first blank line
 * (a METADATA file's body is free text).
 */
export function parseStanzas(text: string, opts: { headerOnly?: boolean } = {}): ParsedStanzas {
  const stanzas: ParsedStanzas['stanzas'] = [];
  const bad: number[] = [];
  let fields: Stanza = new Map();
  let start = 1;
  let broken = false;
  let last: string | undefined;
  const close = () => {
    if (fields.size > 0 && !broken) stanzas.push({ fields, line: start });
    fields = new Map();
    broken = false;
    last = undefined;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') {
      close();
      if (opts.headerOnly && stanzas.length > 0) break;
      start = i + 2;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) {
      if (!broken) bad.push(i + 1);
      broken = true;
      continue;
    }
    last = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    // Repeated fields (Classifier:) are kept one per line.
    fields.set(last, fields.has(last) ? `${fields.get(last)}\n${value}` : value);
  }
  close();
  return { stanzas, bad };
}
