import { readFile } from 'node:fs/promises';
import { readPublicKey, requireP256 } from './cosign-key.js';
import { readGpgPublicKeys } from './gpg.js';
import type { TrustedKeys } from './verify.js';

export async function readKeyFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new Error(`cannot read key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The public keys a verification trusts: cosign PEM files and OpenPGP key files. */
export async function loadTrustedKeys(cosign: string[], gpg: string[]): Promise<TrustedKeys> {
  const keys: TrustedKeys = { cosign: [], gpg: [] };
  for (const f of cosign) keys.cosign.push(requireP256(readPublicKey((await readKeyFile(f)).toString('utf8'), f), f));
  for (const f of gpg) keys.gpg.push(...(await readGpgPublicKeys(await readKeyFile(f), f)));
  return keys;
}
