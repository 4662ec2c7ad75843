import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The private key's password: BERTH_KEY_PASSWORD, else COSIGN_PASSWORD (so
 * scripts written for cosign work), else asked on the terminal without echo.
 * `confirm` asks twice, for a new key.
 */
export async function keyPassword(opts: { confirm: boolean }): Promise<string> {
  const fromEnv = process.env.BERTH_KEY_PASSWORD ?? process.env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) throw new Error('no password: set BERTH_KEY_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be asked');
  const first = await ask('Enter password for private key: ');
  if (opts.confirm && (await ask('Enter password for private key again: ')) !== first) throw new Error('the passwords do not match');
  return first;
}

function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  // Typed characters go to a sink, not the terminal.
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}
