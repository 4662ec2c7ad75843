/** One `$ ` line of a ```console block and the lines the document shows under it. */
export interface Step {
  command: string;
  expected: string;
  /** 1-based line of the command in the document, for failure messages. */
  line: number;
}

const fence = /^```(\w*)\s*$/;

/** The fenced blocks of a Markdown document with the given info string, each with the line its first body line is on. */
function blocks(markdown: string, info: string): { start: number; lines: string[] }[] {
  const out: { start: number; lines: string[] }[] = [];
  let current: { start: number; lines: string[] } | undefined;
  let inOther = false;
  markdown.split('\n').forEach((line, i) => {
    const m = fence.exec(line);
    if (current) {
      if (m) (out.push(current), (current = undefined));
      else current.lines.push(line);
    } else if (inOther) {
      if (m) inOther = false;
    } else if (m) {
      if (m[1] === info) current = { start: i + 2, lines: [] };
      else inOther = true;
    }
  });
  if (current) throw new Error(`unterminated \`\`\`${info} block at line ${current.start - 1}`);
  return out;
}

/** Every ```console block as its steps, in document order. */
export function consoleBlocks(markdown: string): Step[][] {
  return blocks(markdown, 'console').map(({ start, lines }) => {
    const steps: Step[] = [];
    lines.forEach((line, i) => {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: '', line: start + i });
      else if (steps.length === 0) throw new Error(`docs/TUTORIAL.md:${start + i}: a console block must start with a "$ " line`);
      else steps[steps.length - 1]!.expected += `${line}\n`;
    });
    for (const s of steps) s.expected = s.expected.trimEnd();
    return steps;
  });
}

/** The document's one ```yaml block: the configuration of the registry with logins. */
export function yamlBlock(markdown: string): string {
  const found = blocks(markdown, 'yaml');
  if (found.length !== 1) throw new Error(`docs/TUTORIAL.md: expected one yaml block (the auth registry's config), found ${found.length}`);
  return `${found[0]!.lines.join('\n')}\n`;
}

/** The document with the steps on the given lines replaced by what ran and what it printed, blank lines after each kept. */
export function rewriteSteps(markdown: string, ran: Map<number, { command: string; output: string }>): string {
  const lines = markdown.split('\n');
  const steps = consoleBlocks(markdown).flat().reverse();
  for (const s of steps) {
    const step = ran.get(s.line);
    if (step === undefined) continue;
    const shown = s.expected === '' ? 0 : s.expected.split('\n').length;
    lines.splice(s.line - 1, 1 + shown, `$ ${step.command}`, ...(step.output === '' ? [] : step.output.split('\n')));
  }
  return lines.join('\n');
}
