import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Asks on the terminal (stderr, so stdout stays for results). readline
 * draws the question itself: a question written beforehand would be wiped
 * when it refreshes the line. A secret is not echoed: the question is written
 * first and readline's output, the typed characters, goes nowhere.
 * Without a terminal there is nobody to ask: the answer is empty.
 */
export function ask(question: string, opts: { secret?: boolean } = {}): Promise<string> {
  if (!process.stdin.isTTY) return Promise.resolve('');
  if (opts.secret) process.stderr.write(question);
  const output = opts.secret ? new Writable({ write: (_chunk, _enc, done) => done() }) : process.stderr;
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) =>
    rl.question(opts.secret ? '' : question, (answer) => {
      rl.close();
      if (opts.secret) process.stderr.write('\n');
      resolve(answer.trim());
    }),
  );
}

/** y or yes, in any case; anything else (Enter included) is no. */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await ask(question));
}
