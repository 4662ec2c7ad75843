import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { generateKeyPair } from '../sign/cosign-key.js';
import { out, run } from './common.js';
import { keyPassword } from './password.js';

export function registerKey(program: Command): void {
  const key = program.command('key').description('cosign signing keys');
  key
    .command('generate')
    .description('make an ECDSA P-256 pair in cosign\'s format: PREFIX.key (encrypted) and PREFIX.pub')
    .option('--output-prefix <prefix>', 'file name prefix', 'cosign')
    .option('--force', 'overwrite existing files')
    .action(
      run('key generate', async (flags: { outputPrefix: string; force?: boolean }) => {
        const pair = await generateKeyPair(await keyPassword({ confirm: true }));
        const flag = flags.force ? 'w' : 'wx';
        const priv = `${flags.outputPrefix}.key`;
        const pub = `${flags.outputPrefix}.pub`;
        await writeFile(priv, pair.privatePem, { mode: 0o600, flag }).catch(exists(priv));
        await writeFile(pub, pair.publicPem, { flag }).catch(exists(pub));
        out(`Private key written to ${priv}`);
        out(`Public key written to ${pub}`);
      }),
    );
}

const exists = (file: string) => (e: NodeJS.ErrnoException) => {
  throw e.code === 'EEXIST' ? new Error(`${file} exists; remove it or pass --force`) : e;
};
