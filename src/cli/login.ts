import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { storeCredential, type Credential } from '../client/credentials.js';
import { RegistryClient } from '../client/registry.js';
import { DOCKER_HUB, normaliseRegistryHost } from '../oci/reference.js';
import { clientOptions, context, out, run, type ClientFlags } from './common.js';

interface LoginFlags extends ClientFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function registerLogin(program: Command): void {
  clientOptions(program.command('login').argument('[registry]', 'host[:port] (default: Docker Hub)'))
    .description("log in to a registry; credentials go where docker keeps them (config.json or its credential helper)")
    .option('-u, --username <user>', 'username')
    .option('-p, --password <password>', 'password (prefer --password-stdin: argv is visible to other users)')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      run('login', async (input: string | undefined, flags: LoginFlags) => {
        const registry = input ? normaliseRegistryHost(input) : DOCKER_HUB;
        const username = flags.username ?? (await prompt('Username: '));
        if (!username) throw new Error('a username is required (-u USER)');
        const password = flags.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : (flags.password ?? (await prompt('Password: ', true)));
        if (!password) throw new Error('a password is required (--password-stdin)');
        const ctx = context(flags);
        const cred: Credential = { username, password };
        const client = new RegistryClient(registry, { http: ctx.http, insecure: ctx.insecure ?? false, credential: cred });
        const { identityToken } = await client.login();
        await ctx.http.close();
        const where = await storeCredential(registry, identityToken ? { username, identityToken } : cred);
        if (!flags.json) out(`Login Succeeded (credentials saved in ${where})`);
      }),
    );
}

async function readStdin(): Promise<string> {
  let s = '';
  for await (const c of process.stdin) s += (c as Buffer).toString();
  return s;
}

/** Asks on the terminal; a secret is not echoed. Without a terminal there is nobody to ask. */
function prompt(question: string, secret = false): Promise<string> {
  if (!process.stdin.isTTY) return Promise.resolve('');
  process.stderr.write(question);
  const output = new Writable({ write: (chunk, _enc, done) => (secret ? done() : process.stderr.write(chunk, () => done())) });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (a) => {
      rl.close();
      if (secret) process.stderr.write('\n');
      resolve(a.trim());
    }),
  );
}
