import type { Command } from 'commander';
import { storeCredential, type Credential } from '../client/credentials.js';
import { RegistryClient } from '../client/registry.js';
import { DOCKER_HUB, normaliseRegistryHost } from '../oci/reference.js';
import { clientOptions, out, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { ask } from './prompt.js';

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
        const username = flags.username ?? (await ask('Username: '));
        if (!username) throw new Error('a username is required (-u USER)');
        // docker's words: argv is visible in `ps` and lands in shell history.
        if (flags.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
        const password = flags.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : (flags.password ?? (await ask('Password: ', { secret: true })));
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
