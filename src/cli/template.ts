import { UsageError } from './exit.js';

/**
 * docker's `--format`: `{{.Field}}` placeholders, `{{json .}}`, `\t` and `\n`
 * escapes, and a leading `table` for aligned columns with headers. Only field
 * access, which is all the images and history formats people use need; any
 * other action is an error naming the fields, never silently empty output.
 */
export interface Template<Row> {
  table: boolean;
  render(row: Row): string;
  header(): string;
}

export function compileTemplate<Row extends Record<string, string>>(format: string, headers: Record<keyof Row & string, string>): Template<Row> {
  const table = /^table(\s|$)/.test(format);
  const body = (table ? format.slice('table'.length).trimStart() : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const fields = Object.keys(headers);
  const parts: ({ text: string } | { field: string } | { json: true })[] = [];
  let last = 0;
  for (const m of body.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) {
    parts.push({ text: body.slice(last, m.index) });
    const action = m[1]!;
    if (action === 'json .') parts.push({ json: true });
    else if (/^\.[A-Za-z]+$/.test(action) && fields.includes(action.slice(1))) parts.push({ field: action.slice(1) });
    else throw new UsageError(`--format: cannot use {{${action}}}; the fields are ${fields.map((f) => `{{.${f}}}`).join(', ')}, or {{json .}}`);
    last = m.index + m[0].length;
  }
  parts.push({ text: body.slice(last) });
  const fill = (value: (field: string) => string, json: () => string) => parts.map((p) => ('text' in p ? p.text : 'json' in p ? json() : value(p.field))).join('');
  return {
    table,
    render: (row) => fill((f) => row[f] ?? '', () => JSON.stringify(row)),
    header: () => fill((f) => headers[f as keyof Row & string], () => ''),
  };
}
